import Foundation
import JobstreamFuzzTargets

/// The envelope fuzzer. Built by `make fuzz` (-sanitize=fuzzer,address -DFUZZING) it hands its arguments
/// to libFuzzer's driver, which calls `fuzzOne` with each input it makes; built plainly, it runs each
/// file named on the command line through the same checks.
@main
struct Fuzz {
    static func main() throws {
        #if FUZZING
        exit(LibFuzzer.run(fuzzOne))
        #else
        for path in CommandLine.arguments.dropFirst() {
            FuzzTargets.envelope([UInt8](try Data(contentsOf: URL(fileURLWithPath: path))))
        }
        #endif
    }

    #if FUZZING
    static let fuzzOne: LibFuzzer.Callback = { data, size in fuzzOneInput(data, size) }
    #endif
}

#if FUZZING
/// libFuzzer's entry point, by the name its own `main` looks for (whichever `main` the link keeps,
/// inputs arrive here).
@_cdecl("LLVMFuzzerTestOneInput")
func fuzzOneInput(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    run(data, size)
}

private func run(_ data: UnsafePointer<UInt8>?, _ size: Int) -> Int32 {
    FuzzTargets.envelope(data.map { Array(UnsafeBufferPointer(start: $0, count: size)) } ?? [])
    return 0
}
#endif
