// Drives the IAB's reference library (@iabtechlabtcf/core) for keuze-tcf's
// differential test (../reference.rs). Output is keuze-tcf's JSON form of a TC model, one
// JSON document per line, so the Rust side reads it with TcModel::from_json.
//
//   node driver.mjs decode                  TC strings on stdin, one per line
//   node driver.mjs encode COUNT SEED GVL   COUNT random models encoded by the library
//   node driver.mjs bench ROUNDS GVL        times decoding (and re-encoding) the TC
//                                           strings on stdin, for bench/src/bin/tcf.rs
import fs from 'node:fs';
import readline from 'node:readline';
import { GVL, TCModel, TCString, PurposeRestriction } from '@iabtechlabtcf/core';

const TYPES = ['not_allowed', 'require_consent', 'require_legitimate_interest'];

const ids = (vector) => {
  const out = [];
  vector.forEach((value, id) => { if (value) out.push(id); });
  return out;
};

// keuze-tcf writes times as RFC 3339 with tenths of a second only when there are any.
const stamp = (date) => {
  const iso = date.toISOString();
  const ms = date.getUTCMilliseconds();
  return ms === 0 ? iso.replace(/\.\d{3}Z$/, 'Z') : iso.replace(/\.\d{3}Z$/, `.${ms / 100}Z`);
};

// The reference cannot tell an absent segment from an empty one, so every segment is
// written; the Rust side compares with absent segments read as empty.
function toJson(m) {
  const restrictions = [];
  m.publisherRestrictions.getRestrictions().forEach((r) => {
    restrictions.push({
      purposeId: r.purposeId,
      restrictionType: TYPES[r.restrictionType],
      vendors: m.publisherRestrictions.getVendors(r),
    });
  });
  return {
    created: stamp(m.created),
    lastUpdated: stamp(m.lastUpdated),
    cmpId: m.cmpId,
    cmpVersion: m.cmpVersion,
    consentScreen: m.consentScreen,
    consentLanguage: m.consentLanguage,
    vendorListVersion: m.vendorListVersion,
    policyVersion: m.policyVersion,
    isServiceSpecific: m.isServiceSpecific,
    useNonStandardTexts: m.useNonStandardTexts,
    specialFeatureOptIns: ids(m.specialFeatureOptins),
    purposeConsents: ids(m.purposeConsents),
    purposeLegitimateInterests: ids(m.purposeLegitimateInterests),
    purposeOneTreatment: m.purposeOneTreatment,
    publisherCountryCode: m.publisherCountryCode,
    vendorConsents: ids(m.vendorConsents),
    vendorLegitimateInterests: ids(m.vendorLegitimateInterests),
    publisherRestrictions: restrictions,
    disclosedVendors: ids(m.vendorsDisclosed),
    allowedVendors: ids(m.vendorsAllowed),
    publisherTc: {
      consents: ids(m.publisherConsents),
      legitimateInterests: ids(m.publisherLegitimateInterests),
      numCustomPurposes: m.numCustomPurposes,
      customConsents: ids(m.publisherCustomConsents),
      customLegitimateInterests: ids(m.publisherCustomLegitimateInterests),
    },
  };
}

async function decode() {
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) {
    if (!line.trim()) continue;
    try {
      console.log(JSON.stringify(toJson(TCString.decode(line.trim()))));
    } catch (e) {
      console.log(JSON.stringify({ error: String(e && e.message ? e.message : e) }));
    }
  }
}

// mulberry32: a small seeded generator, so a failing case can be replayed.
function generator(seed) {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

function encode(count, seed, gvlPath) {
  const list = JSON.parse(fs.readFileSync(gvlPath, 'utf8'));
  const gvl = new GVL(list);
  const vendorIds = Object.keys(list.vendors).map(Number);
  const rnd = generator(seed);
  const int = (lo, hi) => lo + Math.floor(rnd() * (hi - lo + 1));
  const pick = (n, hi) => Array.from({ length: n }, () => int(1, hi));
  const letters = () => String.fromCharCode(65 + int(0, 25), 65 + int(0, 25));
  for (let i = 0; i < count; i++) {
    const m = new TCModel(gvl);
    m.cmpId = int(2, 4095);
    m.cmpVersion = int(0, 4095);
    m.consentScreen = int(0, 63);
    m.publisherCountryCode = letters();
    m.isServiceSpecific = rnd() < 0.7;
    m.useNonStandardTexts = rnd() < 0.5;
    m.purposeOneTreatment = m.isServiceSpecific && rnd() < 0.3;
    m.supportOOB = rnd() < 0.75;
    // Any decisecond between 2000 and 2100: the library encodes times as given.
    const when = new Date(Date.UTC(2000, 0, 1) + Math.floor(rnd() * 3.15e12));
    m.created = when;
    m.lastUpdated = rnd() < 0.5 ? when : new Date(when.getTime() + int(0, 1e10));
    m.specialFeatureOptins.set(pick(int(0, 2), 12));
    m.purposeConsents.set(pick(int(0, 11), 24));
    m.purposeLegitimateInterests.set(pick(int(0, 11), 24));
    const someVendors = () => {
      const shape = int(0, 4);
      if (shape === 0) return [];
      // A long run: only the OOB segments keep vendors that are not on the list.
      if (shape === 4) {
        const first = int(1, 3000);
        return Array.from({ length: int(1, 2000) }, (_, k) => first + k);
      }
      if (shape === 1) return pick(int(1, 20), 1300).filter((id) => id > 0);
      if (shape === 2) return vendorIds.filter(() => rnd() < 0.5);
      return vendorIds.slice(int(0, 100), int(100, vendorIds.length));
    };
    m.vendorConsents.set(someVendors());
    m.vendorLegitimateInterests.set(someVendors());
    m.vendorsDisclosed.set(someVendors());
    m.vendorsAllowed.set(someVendors());
    for (let r = int(0, 4); r > 0; r--) {
      const restriction = new PurposeRestriction(int(1, 11), int(0, 2));
      for (const id of pick(int(1, 30), 1300)) m.publisherRestrictions.add(id, restriction);
    }
    m.publisherConsents.set(pick(int(0, 11), 24));
    m.publisherLegitimateInterests.set(pick(int(0, 11), 24));
    const custom = int(0, 20);
    m.numCustomPurposes = custom;
    if (custom > 0) {
      m.publisherCustomConsents.set(pick(int(0, custom), custom));
      m.publisherCustomLegitimateInterests.set(pick(int(0, custom), custom));
    }
    const tcString = TCString.encode(m, { isForVendors: rnd() < 0.5 });
    console.log(JSON.stringify({ tcString, model: toJson(TCString.decode(tcString)) }));
  }
}

async function bench(rounds, gvlPath) {
  const gvl = new GVL(JSON.parse(fs.readFileSync(gvlPath, 'utf8')));
  const strings = [];
  const lines = readline.createInterface({ input: process.stdin, crlfDelay: Infinity });
  for await (const line of lines) if (line.trim()) strings.push(line.trim());
  const decodeRates = [];
  const encodeRates = [];
  for (let r = 0; r < rounds; r++) {
    let start = process.hrtime.bigint();
    const models = strings.map((s) => TCString.decode(s));
    decodeRates.push(strings.length / (Number(process.hrtime.bigint() - start) / 1e9));
    models.forEach((m) => { m.gvl = gvl; });
    start = process.hrtime.bigint();
    for (const m of models) TCString.encode(m);
    encodeRates.push(models.length / (Number(process.hrtime.bigint() - start) / 1e9));
  }
  console.log(JSON.stringify({ decode: decodeRates, encode: encodeRates }));
}

const [mode, ...args] = process.argv.slice(2);
if (mode === 'decode') {
  await decode();
} else if (mode === 'encode') {
  encode(Number(args[0]), Number(args[1]), args[2]);
} else if (mode === 'bench') {
  await bench(Number(args[0]), args[1]);
} else {
  console.error('usage: node driver.mjs decode | encode COUNT SEED GVL | bench ROUNDS GVL');
  process.exit(2);
}
