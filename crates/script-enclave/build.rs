fn main() {
    shield_edl::Builder::new("../../enclaves/script.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
