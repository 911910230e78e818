//! Generates the enclave's (trusted) side of the interface.
fn main() {
    shield_edl::Builder::new("../{{name}}.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
