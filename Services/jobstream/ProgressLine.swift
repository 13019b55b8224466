import Foundation
import JobstreamMessages

/// How `wait` shows a job. On a terminal, a running job with a known amount of work is one line
/// redrawn in place — `[########----------------]  33%  10,000 of 30,000 rows  1,000 rows/s  ETA 0:20`;
/// elsewhere (a pipe, a log) a plain line is printed whenever the state changes, with the pace and the
/// estimated end after it.
struct ProgressLine {
    let isTerminal = isatty(STDOUT_FILENO) == 1
    /// Whether the last output was a bar still on the line (not yet ended by a line break).
    private var barShown = false

    mutating func show(_ state: JobState, changed: Bool) {
        let prefix = "\(logDate(Date().epochMilliseconds))  \(state.id)  "
        if isTerminal, !state.ended, let progress = state.progress {
            let text =
                prefix + state.line.prefix { $0 != " " } + "  " + Self.bar(progress, unit: state.unit)
                + Self.pace(state)
            FileHandle.standardOutput.write(Data(("\r\u{1B}[K" + text).utf8))
            barShown = true
            return
        }
        guard changed else { return }
        finish()
        print(prefix + state.line + (state.ended ? "" : Self.pace(state)))
    }

    /// Ends a bar's line, so what follows starts on a line of its own.
    mutating func finish() {
        if barShown { FileHandle.standardOutput.write(Data("\n".utf8)) }
        barShown = false
    }

    static func bar(_ progress: (done: Int, total: Int), unit: String, width: Int = 24) -> String {
        let fraction = progress.total > 0 ? min(1, max(0, Double(progress.done) / Double(progress.total))) : 0
        let filled = Int((fraction * Double(width)).rounded(.down))
        return "[" + String(repeating: "#", count: filled) + String(repeating: "-", count: width - filled) + "] "
            + String(format: "%3d%%", Int(fraction * 100)) + "  \(grouped(progress.done)) of \(grouped(progress.total)) \(unit)"
    }

    /// `  1,000 rows/s  ETA 0:20`, as far as they are known.
    static func pace(_ state: JobState) -> String {
        var text = ""
        if let rate = state.rate { text += "  \(grouped(rate)) \(state.unit)/s" }
        if let end = state.estimatedEnd { text += "  ETA " + remaining(milliseconds: end - Date().epochMilliseconds) }
        return text
    }

    /// `0:20`, `12:05`, `3:12:05`.
    static func remaining(milliseconds: Int) -> String {
        let seconds = max(0, milliseconds / 1000)
        let (hours, minutes, rest) = (seconds / 3600, seconds / 60 % 60, seconds % 60)
        return hours > 0
            ? String(format: "%d:%02d:%02d", hours, minutes, rest)
            : String(format: "%d:%02d", minutes, rest)
    }

    static func grouped(_ value: Int) -> String {
        value.formatted(.number.grouping(.automatic).locale(Locale(identifier: "en_US")))
    }
}
