#if FUZZING
/// libFuzzer's driver, for a fuzzer whose `main` is Swift's (SwiftPM gives every executable one):
/// the C signatures are libFuzzer's, so its pointers stay here; each input is copied into an array
/// before any check sees it.
public enum LibFuzzer {
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    /// Runs libFuzzer with this process's arguments, calling `callback` with every input; returns its exit status.
    public static func run(_ callback: Callback) -> Int32 {
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        return runDriver(&argc, &argv, callback)
    }
}

@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(_ argc: UnsafeMutablePointer<Int32>,
                       _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
                       _ callback: LibFuzzer.Callback) -> Int32
#endif
