fn main() {
    // The system OCALLs' proxies; the imports are the system EDL files compiled into shield-edl.
    shield_edl::Builder::new("system.edl")
        .side(shield_edl::Side::Trusted)
        .generate()
        .unwrap_or_else(|e| panic!("{e}"));
}
