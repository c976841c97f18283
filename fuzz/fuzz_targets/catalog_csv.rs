//! Any bytes as a catalog CSV file (any of the three layouts, told apart by the header): a
//! catalog or a typed error, never a panic. A catalog that loads must also answer its summary
//! and a recommendation.
#![no_main]

use catalog::Catalog;
use libfuzzer_sys::fuzz_target;
use mood::{Emotion, EmotionDistribution};

fuzz_target!(|data: &[u8]| {
    if let Ok(catalog) = Catalog::from_reader("fuzz.csv", data) {
        let _ = catalog.stats();
        for movie in catalog.movies() {
            let _ = catalog.weighted_rating(movie);
        }
        let request = recommend::Request::new(EmotionDistribution::certain(Emotion::Sad));
        let _ = recommend::recommend(&catalog, &request);
    }
});
