fn main() {
    shield_edl::Builder::new("../services.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
