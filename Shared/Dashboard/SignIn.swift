import Foundation
import Hummingbird

/// The sign-in page: a browser presents a token once and keeps it in an HttpOnly, SameSite=Strict
/// cookie, with an optional name that cancel requests carry as "requested by".
enum SignIn {
    static let nameCookie = "jobstream_operator"
    static let cookieLifetime = 12 * 3600
    static let maximumNameLength = 80

    struct Form: Decodable {
        var token: String?
        var name: String?
        var next: String?
    }

    static func form(next: String, problem: String?) -> HTML {
        let problemHTML: HTML = problem.map { "<p class=\"error\" role=\"alert\">\($0)</p>" } ?? ""
        return """
            \(problemHTML)
            <form class="sign-in" method="post" action="/login">
            <input type="hidden" name="next" value="\(next)">
            <label>Token <input type="password" name="token" autocomplete="current-password" required></label>
            <label>Your name (shown as who canceled) <input type="text" name="name" maxlength="\(maximumNameLength)"></label>
            <button type="submit">Sign in</button>
            </form>
            """
    }

    /// Only a path of this dashboard: never another site, never `//host`.
    static func safeNext(_ next: String?) -> String {
        guard let next, next.hasPrefix("/"), !next.hasPrefix("//"), !next.contains("\\"),
            next.unicodeScalars.allSatisfy({ $0.value > 0x20 && $0.value < 0x7F })
        else { return "/backfills" }
        return next
    }

    static func cookies(token: String, name: String) -> [Cookie] {
        let name = String(name.trimmingCharacters(in: .whitespacesAndNewlines).prefix(maximumNameLength))
        return [
            Cookie(
                name: DashboardAccess.cookieName, value: token, maxAge: cookieLifetime, path: "/", httpOnly: true,
                sameSite: .strict),
            Cookie(
                name: nameCookie, value: name.addingPercentEncoding(withAllowedCharacters: .alphanumerics) ?? "",
                maxAge: cookieLifetime, path: "/", httpOnly: true, sameSite: .strict),
        ]
    }
}

extension Dashboard {
    func addSignIn(to router: Router<DashboardRequestContext>) {
        router.get("/login") { request, _ in
            let next = SignIn.safeNext(request.uri.queryParameters.get("next"))
            return Responses.html(
                layout(request, role: access.role(of: request), title: "Sign in")
                    .render(SignIn.form(next: next, problem: nil)))
        }
        router.post("/login") { request, _ in
            var request = request
            let body = try await request.collectBody(upTo: 16 * 1024)
            let form = (try? URLEncodedFormDecoder().decode(SignIn.Form.self, from: String(buffer: body))) ?? SignIn.Form()
            let next = SignIn.safeNext(form.next)
            let token = form.token ?? ""
            guard access.role(forToken: token) != .anonymous else {
                return Responses.html(
                    layout(request, role: .anonymous, title: "Sign in")
                        .render(SignIn.form(next: next, problem: "That token is not one this dashboard accepts.")),
                    status: .unauthorized)
            }
            var response = Responses.seeOther(next)
            for cookie in SignIn.cookies(token: token, name: form.name ?? "") { response.setCookie(cookie) }
            return response
        }
        router.get("/logout") { _, _ in
            var response = Responses.seeOther("/backfills")
            for name in [DashboardAccess.cookieName, SignIn.nameCookie] {
                response.setCookie(Cookie(name: name, value: "", maxAge: 0, path: "/", httpOnly: true, sameSite: .strict))
            }
            return response
        }
    }
}
