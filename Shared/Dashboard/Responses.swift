import Foundation
import Hummingbird
import JobstreamMessages

/// The shapes of the dashboard's responses: pages, JSON and errors of each.
enum Responses {
    static func html(_ html: HTML, status: HTTPResponse.Status = .ok) -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "text/html; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(string: html.rendered)))
    }

    static func json(_ value: some Encodable, status: HTTPResponse.Status = .ok) -> Response {
        let encoder = JSONEncoder()
        encoder.outputFormatting = [.sortedKeys, .withoutEscapingSlashes]
        // The summaries encode their instants as ISO 8601 text themselves; nothing else can fail to encode.
        let data = (try? encoder.encode(value)) ?? Data("{}".utf8)
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-store"
        return Response(status: status, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: data)))
    }

    /// `{"error": "..."}` with the status.
    static func apiError(_ status: HTTPResponse.Status, _ message: String) -> Response {
        var response = json(["error": message], status: status)
        if status == .unauthorized { response.headers[.wwwAuthenticate] = "Bearer realm=\"jobstream\"" }
        return response
    }

    /// A whole page saying what went wrong.
    static func errorPage(_ status: HTTPResponse.Status, _ message: String, layout: PageLayout) -> Response {
        html(
            layout.render("<p class=\"error\" role=\"alert\">\(message)</p><p><a href=\"/backfills\">Backfill Logs</a></p>"),
            status: status)
    }

    /// After a form: go to `location` with a GET.
    static func seeOther(_ location: String) -> Response {
        Response.redirect(to: location, type: .normal)
    }
}

/// The Sync History filter read from a query string (`from`, `to` as YYYY-MM-DD, `operation`);
/// a bad value fails naming the parameter.
enum SyncFilterQuery {
    static func parse(from: String?, to: String?, operation: String?) throws(FilterProblem) -> SyncFilter {
        let fromDate = try date(from, name: "from"), toDate = try date(to, name: "to")
        if let fromDate, let toDate, toDate < fromDate {
            throw FilterProblem("to \(toDate) is before from \(fromDate)")
        }
        var chosen: SyncOperation?
        if let operation = operation?.trimmingCharacters(in: .whitespaces), !operation.isEmpty, operation.lowercased() != "all" {
            guard let match = SyncOperation.allCases.first(where: { $0.rawValue.lowercased() == operation.lowercased() }) else {
                throw FilterProblem(
                    "operation \"\(operation)\" is not one of All, "
                        + SyncOperation.allCases.map(\.rawValue).joined(separator: ", "))
            }
            chosen = match
        }
        return SyncFilter(from: fromDate, to: toDate, operation: chosen)
    }

    private static func date(_ text: String?, name: String) throws(FilterProblem) -> CalendarDate? {
        guard let text = text?.trimmingCharacters(in: .whitespaces), !text.isEmpty else { return nil }
        guard let date = CalendarDate(text) else {
            throw FilterProblem("\(name) \"\(text)\" is not a date written YYYY-MM-DD (e.g. 2026-11-01)")
        }
        return date
    }
}

/// A query parameter that cannot be used, named in the message.
struct FilterProblem: Error, CustomStringConvertible {
    let description: String
    init(_ description: String) { self.description = description }
}
