import Foundation

/// What a fuzzer executable runs. Built by `make fuzz` (-sanitize=fuzzer,address -DFUZZING) it hands
/// its arguments to libFuzzer's driver; built plainly, it runs each file named on the command line
/// through the same checks. The C signatures are libFuzzer's, so its pointers stay here; each input
/// is copied into an array before any check sees it.
public enum FuzzMain {
    /// libFuzzer's callback for one input.
    public typealias Callback = @convention(c) (UnsafePointer<UInt8>?, Int) -> Int32

    /// The fuzzer's `main`: `fuzzer` is the executable's `LLVMFuzzerTestOneInput`, which calls ``handle(_:_:with:)``.
    public static func run(_ check: ([UInt8]) -> Void, fuzzer: Callback) throws {
        #if FUZZING
        var argc = CommandLine.argc
        var argv = CommandLine.unsafeArgv
        exit(runDriver(&argc, &argv, fuzzer))
        #else
        for path in CommandLine.arguments.dropFirst() {
            check([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #endif
    }

    /// Runs `check` on one input libFuzzer made.
    public static func handle(_ data: UnsafePointer<UInt8>?, _ size: Int, with check: ([UInt8]) -> Void) -> Int32 {
        check(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
        return 0
    }
}

#if FUZZING
@_silgen_name("LLVMFuzzerRunDriver")
private func runDriver(
    _ argc: UnsafeMutablePointer<Int32>,
    _ argv: UnsafeMutablePointer<UnsafeMutablePointer<UnsafeMutablePointer<CChar>?>>,
    _ callback: FuzzMain.Callback
) -> Int32
#endif
