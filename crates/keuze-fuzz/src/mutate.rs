//! Structure-aware edits: to a JSON value (by picking one of its nodes) and to bytes.
//! Fuzzed inputs carry a list of edits, so a valid starting point (a real receipt, a
//! request body the API accepts) is changed a little at a time and stays close enough to
//! valid to reach the checks behind the parser.

use arbitrary::Arbitrary;
use serde_json::{Map, Number, Value};

/// One change to a JSON document. `at` picks a node: its index among every node of the
/// document in pre-order, modulo their number.
#[derive(Debug, Clone, Arbitrary)]
pub enum JsonEdit {
    /// Put in the value at the same place in another document of the same kind (another
    /// receipt, another valid body): the most plausible forgery.
    Splice {
        at: u16,
        from: u8,
    },
    SetNumber {
        at: u16,
        value: i64,
    },
    SetBigNumber {
        at: u16,
        value: u64,
    },
    SetFloat {
        at: u16,
        value: f64,
    },
    AddToNumber {
        at: u16,
        delta: i8,
    },
    SetString {
        at: u16,
        value: String,
    },
    /// Replace a string with one of [`INTERESTING`].
    SetInteresting {
        at: u16,
        which: u8,
    },
    /// Change one character of a string.
    EditString {
        at: u16,
        position: u16,
        to: char,
    },
    /// Cut a string at a character.
    TruncateString {
        at: u16,
        position: u16,
    },
    SetBool {
        at: u16,
        value: bool,
    },
    SetNull {
        at: u16,
    },
    /// An empty object, or an empty array.
    SetEmpty {
        at: u16,
        array: bool,
    },
    Remove {
        at: u16,
    },
    AddKey {
        at: u16,
        key: String,
    },
    /// Copy an array's element to its end, or wrap the node in an array.
    Duplicate {
        at: u16,
        times: u8,
    },
    /// Nest the node in arrays, deeply.
    Nest {
        at: u16,
        depth: u8,
    },
}

/// Strings that parsers and validators tend to get wrong.
pub const INTERESTING: &[&str] = &[
    "",
    " ",
    "\u{0}",
    "\n",
    "\u{2014} ",
    "é",
    "🦀",
    "\u{feff}",
    "-1",
    "0",
    "18446744073709551616",
    "NaN",
    "null",
    "grant",
    "withdraw",
    "object",
    "erase",
    "accept",
    "reject",
    "en",
    "nl",
    "de",
    "EN",
    "nl-NL",
    "newsletter",
    "service_analytics",
    "order_fulfilment",
    "no_such_purpose",
    "contact.email",
    "contact",
    "location.precise",
    "balanced",
    "everything",
    "only_needed",
    "yes",
    "dev_00000000000000000000000000000000",
    "dev_0000000000000000000000000000000g",
    "dev_",
    "abababababababababababababababababababababababababababababababab",
    "ABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABABAB",
    "sha256:abababababababababababababababababababababababababababababababab",
    "http://127.0.0.1:9/hook",
    "https://[::1]:9/",
    "ftp://127.0.0.1/",
    "http://",
    "preference_center",
    "banner",
    "api",
    "gpc",
    "import",
    "system",
    "kz_0000000000000000_0000000000000000000000000000000000000000000000000000000000000000",
    "2026-11-18T11:06:40.123Z",
    "%00",
    "../../etc/passwd",
    "<script>alert(1)</script>",
];

/// Every node's JSON Pointer, in pre-order (the root is `""`).
pub fn pointers(value: &Value) -> Vec<String> {
    fn walk(v: &Value, at: String, out: &mut Vec<String>) {
        out.push(at.clone());
        match v {
            Value::Object(m) => {
                for (k, child) in m {
                    let key = k.replace('~', "~0").replace('/', "~1");
                    walk(child, format!("{at}/{key}"), out);
                }
            }
            Value::Array(a) => {
                for (i, child) in a.iter().enumerate() {
                    walk(child, format!("{at}/{i}"), out);
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(value, String::new(), &mut out);
    out
}

fn pick(value: &Value, at: u16) -> String {
    let all = pointers(value);
    all[usize::from(at) % all.len()].clone()
}

fn char_index(s: &str, position: u16) -> usize {
    let n = s.chars().count();
    if n == 0 {
        return 0;
    }
    s.char_indices()
        .nth(usize::from(position) % n)
        .map_or(0, |(i, _)| i)
}

/// Applies `edit` to `doc`; `others` are documents of the same kind to splice from.
pub fn apply(doc: &mut Value, edit: &JsonEdit, others: &[Value]) {
    use JsonEdit as E;
    let at = match edit {
        E::Splice { at, .. }
        | E::SetNumber { at, .. }
        | E::SetBigNumber { at, .. }
        | E::SetFloat { at, .. }
        | E::AddToNumber { at, .. }
        | E::SetString { at, .. }
        | E::SetInteresting { at, .. }
        | E::EditString { at, .. }
        | E::TruncateString { at, .. }
        | E::SetBool { at, .. }
        | E::SetNull { at }
        | E::SetEmpty { at, .. }
        | E::Remove { at }
        | E::AddKey { at, .. }
        | E::Duplicate { at, .. }
        | E::Nest { at, .. } => *at,
    };
    let pointer = pick(doc, at);
    if let E::Remove { .. } = edit {
        remove(doc, &pointer);
        return;
    }
    let Some(node) = doc.pointer_mut(&pointer) else {
        return;
    };
    match edit {
        E::Splice { from, .. } => {
            if !others.is_empty() {
                let other = &others[usize::from(*from) % others.len()];
                if let Some(v) = other.pointer(&pointer) {
                    *node = v.clone();
                }
            }
        }
        E::SetNumber { value, .. } => *node = Value::from(*value),
        E::SetBigNumber { value, .. } => *node = Value::from(*value),
        E::SetFloat { value, .. } => {
            *node = Number::from_f64(*value).map_or(Value::Null, Value::Number)
        }
        E::AddToNumber { delta, .. } => {
            if let Some(n) = node.as_i64() {
                *node = Value::from(n.wrapping_add(i64::from(*delta)));
            } else if let Some(n) = node.as_u64() {
                *node = Value::from(n.wrapping_add_signed(i64::from(*delta)));
            }
        }
        E::SetString { value, .. } => *node = Value::from(value.as_str()),
        E::SetInteresting { which, .. } => {
            *node = Value::from(INTERESTING[usize::from(*which) % INTERESTING.len()])
        }
        E::EditString { position, to, .. } => {
            if let Value::String(s) = node {
                if s.is_empty() {
                    s.push(*to);
                } else {
                    let i = char_index(s, *position);
                    let len = s[i..].chars().next().map_or(0, char::len_utf8);
                    s.replace_range(i..i + len, &to.to_string());
                }
            }
        }
        E::TruncateString { position, .. } => {
            if let Value::String(s) = node {
                let i = char_index(s, *position);
                s.truncate(i);
            }
        }
        E::SetBool { value, .. } => *node = Value::from(*value),
        E::SetNull { .. } => *node = Value::Null,
        E::SetEmpty { array, .. } => {
            *node = if *array {
                Value::Array(Vec::new())
            } else {
                Value::Object(Map::new())
            }
        }
        E::AddKey { key, .. } => {
            if let Value::Object(m) = node {
                m.insert(key.clone(), Value::from("fuzz"));
            }
        }
        E::Duplicate { times, .. } => {
            let times = usize::from(*times % 16) + 1;
            match node {
                Value::Array(a) if !a.is_empty() => {
                    let last = a[a.len() - 1].clone();
                    a.extend(std::iter::repeat_n(last, times));
                }
                other => *other = Value::Array(vec![other.clone(); times]),
            }
        }
        E::Nest { depth, .. } => {
            for _ in 0..=*depth {
                *node = Value::Array(vec![node.take()]);
            }
        }
        E::Remove { .. } => {}
    }
}

fn remove(doc: &mut Value, pointer: &str) {
    let Some((parent, last)) = pointer.rsplit_once('/') else {
        // The root itself: what is left is nothing at all.
        *doc = Value::Null;
        return;
    };
    let key = last.replace("~1", "/").replace("~0", "~");
    match doc.pointer_mut(parent) {
        Some(Value::Object(m)) => {
            m.remove(&key);
        }
        Some(Value::Array(a)) => {
            if let Ok(i) = key.parse::<usize>() {
                if i < a.len() {
                    a.remove(i);
                }
            }
        }
        _ => {}
    }
}

/// One change to a byte string.
#[derive(Debug, Clone, Arbitrary)]
pub enum ByteEdit {
    Set {
        at: u32,
        byte: u8,
    },
    Insert {
        at: u32,
        bytes: Vec<u8>,
    },
    Delete {
        at: u32,
        len: u16,
    },
    Truncate {
        at: u32,
    },
    /// Insert one of [`INTERESTING`].
    InsertInteresting {
        at: u32,
        which: u8,
    },
}

pub fn apply_bytes(data: &mut Vec<u8>, edit: &ByteEdit) {
    let pos = |at: u32, len: usize| {
        if len == 0 {
            0
        } else {
            (at as usize) % (len + 1)
        }
    };
    match edit {
        ByteEdit::Set { at, byte } => {
            if !data.is_empty() {
                let i = (*at as usize) % data.len();
                data[i] = *byte;
            }
        }
        ByteEdit::Insert { at, bytes } => {
            let i = pos(*at, data.len());
            data.splice(i..i, bytes.iter().copied());
        }
        ByteEdit::Delete { at, len } => {
            let i = pos(*at, data.len());
            let end = (i + usize::from(*len)).min(data.len());
            data.drain(i..end);
        }
        ByteEdit::Truncate { at } => {
            let i = pos(*at, data.len());
            data.truncate(i);
        }
        ByteEdit::InsertInteresting { at, which } => {
            let i = pos(*at, data.len());
            let s = INTERESTING[usize::from(*which) % INTERESTING.len()];
            data.splice(i..i, s.bytes());
        }
    }
}
