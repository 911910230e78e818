fn main() {
    // The system OCALLs' proxies; imports come from shield-edl's system folder.
    shield_edl::Builder::new("system.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
