import Foundation
import Hummingbird
import JobstreamMessages

/// The frame every page shares: the three logs' navigation, who is signed in, and the live region
/// (`<main id="live">`) that `dashboard.js` re-fetches when one of the page's logs changes.
struct PageLayout {
    var title: String
    /// The logs whose changes refresh this page.
    var live: [StatusBoard.Log]
    var role: DashboardAccess.Role
    /// The named token's name, shown beside the role.
    var name: String? = nil
    var access: DashboardAccess
    var path: String

    func render(_ content: HTML, above: HTML = "") -> HTML {
        let liveLogs = live.map(\.rawValue).joined(separator: " ")
        return """
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>\(title) · jobstream</title>
            <link rel="stylesheet" href="/assets/dashboard.css">
            <script src="/assets/dashboard.js" defer></script>
            </head>
            <body>
            <header>
            <a class="brand" href="/">jobstream</a>
            <nav>\(navigation)</nav>
            <span class="who">\(signedIn)</span>
            <span class="live-state" id="live-state" title="live updates">●</span>
            </header>
            <h1>\(title)</h1>
            \(above)
            <main id="live" data-live="\(liveLogs)">
            \(content)
            </main>
            </body>
            </html>
            """
    }

    private var navigation: HTML {
        let links = [("/backfills", "Backfill Logs"), ("/migrations", "Migration Logs"), ("/sync", "Sync History")]
        return HTML.joined(
            links.map { href, label in
                let current = path == href || path.hasPrefix(href + "/")
                return current ? "<a href=\"\(href)\" aria-current=\"page\">\(label)</a>" : "<a href=\"\(href)\">\(label)</a>"
            })
    }

    private var signedIn: HTML {
        let who: HTML = name.map { "\($0) · " } ?? ""
        switch role {
        case .approver: return "\(who)approver · <a href=\"/logout\">sign out</a>"
        case .operator: return "\(who)operator · <a href=\"/logout\">sign out</a>"
        case .viewer: return "\(who)viewer · <a href=\"/logout\">sign out</a>"
        case .anonymous:
            guard access.actionsEnabled || access.viewingNeedsToken else { return "" }
            return "<a href=\"/login?next=\(Self.queryValue(path))\">sign in</a>"
        }
    }

    /// An id percent-encoded for one segment of a path: a `/` or `?` in it cannot change the route.
    static func pathSegment(_ text: String) -> String {
        PercentEncoding.encode(text, keeping: "-._~")
    }

    /// `text` percent-encoded for a query value.
    static func queryValue(_ text: String) -> String {
        PercentEncoding.encode(text, keeping: "-._~/")
    }
}

/// How the pages write values.
enum Display {
    /// An instant as the logs show it: UTC, to the second; "-" when there is none.
    static func date(_ date: Date?) -> String {
        guard let date else { return "-" }
        return Timestamp.logText(date)
    }

    static func count(_ value: Int?) -> String {
        guard let value else { return "-" }
        let digits = String(value.magnitude)
        var grouped = ""
        for (index, digit) in digits.enumerated() {
            if index > 0, (digits.count - index) % 3 == 0 { grouped.append(",") }
            grouped.append(digit)
        }
        return value < 0 ? "-" + grouped : grouped
    }

    /// A status as a badge, styled by its kind (done, failed, running).
    static func status(_ text: String, kind: String) -> HTML {
        "<span class=\"status status-\(kind)\">\(text)</span>"
    }

    /// A status with the "preview" tag after it when the job is a preview (a dry run).
    static func status(_ text: String, kind: String, preview: Bool) -> HTML {
        let tag: HTML = preview ? " <span class=\"tag\">preview</span>" : ""
        return "\(status(text, kind: kind))\(tag)"
    }

    /// A list of label and value lines.
    static func fields(_ lines: [(String, HTML)]) -> HTML {
        "<dl class=\"fields\">\(lines.map { label, value -> HTML in "<dt>\(label)</dt><dd>\(value)</dd>" })</dl>"
    }

    static func text(_ value: String) -> HTML { "\(value)" }
}
