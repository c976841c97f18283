//! Any bytes as the JSON body of `POST /api/v1/recommendations` (a `recommend::Request`), run
//! against the built-in catalog: films or a typed error, never a panic.
#![no_main]

use catalog::Catalog;
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    if let Ok(request) = serde_json::from_slice::<recommend::Request>(data) {
        if let Ok(films) = recommend::recommend(Catalog::builtin(), &request) {
            assert!(films.movies.len() <= request.n, "more films than asked for");
        }
    }
});
