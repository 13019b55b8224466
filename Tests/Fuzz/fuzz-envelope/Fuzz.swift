import JobstreamFuzzTargets

/// The fuzzer of the envelope decoder (`FuzzTargets.envelope`; see `FuzzMain`).
@main
struct Fuzz {
    static func main() throws { try FuzzMain.run(FuzzTargets.envelope, fuzzer: fuzzOneInput) }
}

/// libFuzzer's entry point, by the name its own `main` looks for.
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 { FuzzMain.handle(data, size, with: FuzzTargets.envelope) }
