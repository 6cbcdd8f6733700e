#![no_main]
libfuzzer_sys::fuzz_target!(|data: &[u8]| keuze_fuzz::tcf::tc_string(data));
