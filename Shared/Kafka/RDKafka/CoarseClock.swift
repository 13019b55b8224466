#if canImport(Glibc)
import Glibc
#endif

/// A monotonic clock read at the kernel's tick (a few milliseconds on Linux), for checks made once per
/// message that only need to tell seconds apart: reading it costs a fraction of `ContinuousClock.now`,
/// which a consumer handing out millions of messages a second measurably paid for.
enum CoarseClock {
    /// Milliseconds since an arbitrary start, never going backwards.
    static func milliseconds() -> Int64 {
        #if os(Linux)
        var time = timespec()
        clock_gettime(CLOCK_MONOTONIC_COARSE, &time)
        return Int64(time.tv_sec) * 1000 + Int64(time.tv_nsec) / 1_000_000
        #else
        (ContinuousClock.now - start).milliseconds
        #endif
    }

    #if !os(Linux)
    private static let start = ContinuousClock.now
    #endif
}
