#![no_main]

libfuzzer_sys::fuzz_target!(|data: &[u8]| mockd_fuzz::create::check(data));
