//! The TC string's alphabet and bit stream.
//!
//! A TC string segment is a sequence of bits written six at a time as base64url
//! characters. It is not a byte string: a segment may end in the middle of a byte and
//! may carry any number of pad bits, so the characters are mapped to bits here rather
//! than through a byte-oriented base64 decoder (which refuses lengths of 4k+1 and
//! non-zero trailing bits).

/// The value of one base64url character, or `None` if it is not one.
fn sextet(c: u8) -> Option<u8> {
    match c {
        b'A'..=b'Z' => Some(c - b'A'),
        b'a'..=b'z' => Some(c - b'a' + 26),
        b'0'..=b'9' => Some(c - b'0' + 52),
        b'-' => Some(62),
        b'_' => Some(63),
        _ => None,
    }
}

const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";

/// A segment's characters that are not base64url: the byte position of the first one.
pub(crate) fn first_bad_char(segment: &str) -> Option<(usize, char)> {
    segment
        .char_indices()
        .find(|&(_, c)| !c.is_ascii() || sextet(c as u8).is_none())
}

/// Reads fields MSB-first from a segment's bits.
pub(crate) struct BitReader {
    /// The segment's bits packed MSB-first, padded with zero bytes so that a read of up
    /// to 64 bits never runs off the vector.
    bytes: Vec<u8>,
    len: usize,
    pos: usize,
}

impl BitReader {
    /// The bits of a segment already checked by [`first_bad_char`].
    pub(crate) fn new(segment: &str) -> Self {
        let len = segment.len() * 6;
        let mut bytes = Vec::with_capacity(len / 8 + 9);
        let mut acc: u32 = 0;
        let mut held = 0u32;
        for c in segment.bytes() {
            acc = (acc << 6) | u32::from(sextet(c).unwrap_or(0));
            held += 6;
            if held >= 8 {
                held -= 8;
                bytes.push((acc >> held) as u8);
                acc &= (1 << held) - 1;
            }
        }
        if held > 0 {
            bytes.push((acc << (8 - held)) as u8);
        }
        bytes.extend_from_slice(&[0; 8]);
        BitReader { bytes, len, pos: 0 }
    }

    pub(crate) fn position(&self) -> usize {
        self.pos
    }

    pub(crate) fn remaining(&self) -> usize {
        self.len - self.pos
    }

    /// The next `n` bits (at most 64) as an integer, or `None` if fewer remain.
    pub(crate) fn read(&mut self, n: u32) -> Option<u64> {
        if n > 57 {
            if (n as usize) > self.remaining() || n > 64 {
                return None;
            }
            let high = self.read(n - 32)?;
            return Some(high << 32 | self.read(32)?);
        }
        let value = self.peek(n)?;
        self.pos += n as usize;
        Some(value)
    }

    /// The next `n` bits (at most 57) without consuming them.
    pub(crate) fn peek(&self, n: u32) -> Option<u64> {
        if n > 57 || (n as usize) > self.remaining() {
            return None;
        }
        if n == 0 {
            return Some(0);
        }
        let byte = self.pos / 8;
        let window = self.bytes.get(byte..byte + 8)?;
        let mut word = [0u8; 8];
        word.copy_from_slice(window);
        let word = u64::from_be_bytes(word) << (self.pos % 8);
        Some(word >> (64 - n))
    }
}

/// Writes fields MSB-first; [`BitWriter::finish`] renders base64url.
#[derive(Default)]
pub(crate) struct BitWriter {
    bytes: Vec<u8>,
    len: usize,
}

impl BitWriter {
    pub(crate) fn with_capacity(bits: usize) -> Self {
        BitWriter {
            bytes: Vec::with_capacity(bits / 8 + 4),
            len: 0,
        }
    }

    /// Appends the low `n` bits of `value` (the caller has checked it fits).
    pub(crate) fn push(&mut self, value: u64, n: u32) {
        let mut left = n;
        while left > 0 {
            let free = 8 - (self.len % 8) as u32;
            if free == 8 {
                self.bytes.push(0);
            }
            let take = free.min(left);
            let part = ((value >> (left - take)) & ((1u64 << take) - 1)) as u8;
            if let Some(last) = self.bytes.last_mut() {
                *last |= part << (free - take);
            }
            left -= take;
            self.len += take as usize;
        }
    }

    pub(crate) fn push_bool(&mut self, value: bool) {
        self.push(u64::from(value), 1);
    }

    /// The bits as base64url, zero-padded to a multiple of 24 bits (whole characters
    /// and whole bytes, as the IAB's own encoder does, so byte-oriented base64 decoders
    /// also read it).
    pub(crate) fn finish(mut self, out: &mut String) {
        let padded = self.len.div_ceil(24) * 24;
        self.bytes.resize(padded / 8, 0);
        for chunk in self.bytes.chunks(3) {
            let mut word = [0u8; 3];
            for (w, b) in word.iter_mut().zip(chunk) {
                *w = *b;
            }
            let n = u32::from(word[0]) << 16 | u32::from(word[1]) << 8 | u32::from(word[2]);
            for shift in [18, 12, 6, 0] {
                let index = ((n >> shift) & 63) as usize;
                out.push(char::from(ALPHABET.get(index).copied().unwrap_or(b'A')));
            }
        }
    }
}

#[cfg(test)]
#[allow(clippy::unwrap_used)]
mod tests {
    use super::*;

    #[test]
    fn writes_and_reads_back_fields_of_every_width() {
        let fields: Vec<(u64, u32)> = (0..=36)
            .map(|n| (((1u64 << n) - 1) ^ 0x5, n.max(3)))
            .collect();
        let mut w = BitWriter::default();
        for &(v, n) in &fields {
            w.push(v & ((1u64 << n) - 1), n);
        }
        let mut s = String::new();
        w.finish(&mut s);
        assert_eq!(s.len() % 4, 0);
        let mut r = BitReader::new(&s);
        for &(v, n) in &fields {
            assert_eq!(r.read(n), Some(v & ((1u64 << n) - 1)), "width {n}");
        }
    }

    #[test]
    fn a_read_past_the_end_is_refused() {
        let mut r = BitReader::new("AB");
        assert_eq!(r.read(12), Some(1));
        assert_eq!(r.read(1), None);
        assert_eq!(first_bad_char("AB+C"), Some((2, '+')));
        assert_eq!(first_bad_char("ABé"), Some((2, 'é')));
    }
}
