import Hummingbird

/// The API's OpenAPI 3.1 document, `openapi.json` beside this file, built into the executable and
/// served at `GET /api/openapi.json`. A test checks that every route of the API is in it and that
/// it lists no route the API lacks; `schemathesis` checks the answers against it in CI.
enum OpenAPIDocument {
    static let bytes: [UInt8] = PackageResources.openapi_json

    static func response() -> Response {
        var headers = HTTPFields()
        headers[.contentType] = "application/json; charset=utf-8"
        headers[.cacheControl] = "no-cache"
        return Response(status: .ok, headers: headers, body: ResponseBody(byteBuffer: ByteBuffer(bytes: bytes)))
    }
}
