import AsyncHTTPClient
import Crypto
import Foundation
import NIOCore
import NIOHTTP1

/// A small client of the S3 API (AWS S3, MinIO, Ceph, SeaweedFS), with path-style addresses
/// (`ENDPOINT/BUCKET/KEY`) and every request signed (``SigV4Signer``). Reads stream to a file or
/// fetch a range; writes send a file in parts (multipart upload), so memory holds one part,
/// whatever the file's size.
public struct S3Client: Sendable {
    public let endpoint: URL
    let signer: SigV4Signer
    let http: HTTPClient
    /// Bytes of each part of a multipart upload (S3's minimum is 5 MiB but for the last part).
    public var partBytes = 8 << 20
    /// How long one request may take.
    public var timeout: Duration = .seconds(300)

    public init(endpoint: URL, region: String, credentials: SigV4Signer.Credentials, http: HTTPClient) {
        self.endpoint = endpoint
        self.signer = SigV4Signer(credentials: credentials, region: region)
        self.http = http
    }

    /// An answer the store refused, with its S3 error code and message (cut short).
    public struct Failure: Error, CustomStringConvertible, Sendable {
        public let status: Int
        public let code: String
        public let message: String
        public var description: String { "the object store answered \(status) \(code): \(message)" }
    }

    // MARK: Objects

    /// Makes a bucket; one that exists and is ours already is fine.
    public func createBucket(_ bucket: String) async throws {
        let response = try await send("PUT", bucket: bucket, key: nil)
        guard response.status == 200 || ["BucketAlreadyOwnedByYou", "BucketAlreadyExists"].contains(response.code) else {
            throw response.failure
        }
    }

    /// Stores `bytes` as one object.
    public func put(bucket: String, key: String, bytes: [UInt8]) async throws {
        try await put(bucket: bucket, key: key, body: ByteBuffer(bytes: bytes))
    }

    func put(bucket: String, key: String, body: ByteBuffer) async throws {
        let response = try await send("PUT", bucket: bucket, key: key, body: body)
        guard response.status == 200 else { throw response.failure }
    }

    /// The object's bytes in `range` (inclusive), or all of them.
    public func get(
        bucket: String, key: String, range: ClosedRange<Int64>? = nil, maximumBytes: Int = 64 << 20
    ) async throws
        -> [UInt8]
    {
        var headers: [(String, String)] = []
        if let range { headers.append(("Range", "bytes=\(range.lowerBound)-\(range.upperBound)")) }
        let response = try await send("GET", bucket: bucket, key: key, headers: headers, collect: maximumBytes)
        guard response.status == 200 || response.status == 206 else { throw response.failure }
        return response.body
    }

    /// The object's size, or nil when there is none.
    public func size(bucket: String, key: String) async throws -> Int64? {
        let response = try await send("HEAD", bucket: bucket, key: key)
        if response.status == 404 { return nil }
        guard response.status == 200 else { throw response.failure }
        return response.headers.first(name: "content-length").flatMap { Int64($0) }
    }

    /// Writes the object to `file` as it arrives: memory holds one piece of the body.
    public func download(bucket: String, key: String, to file: URL) async throws {
        guard FileManager.default.createFile(atPath: file.path, contents: nil) else {
            throw Failure(status: 0, code: "LocalFile", message: "\(file.lastPathComponent) cannot be created")
        }
        let handle = try FileHandle(forWritingTo: file)
        defer { try? handle.close() }
        try await read(bucket: bucket, key: key) { piece in
            try handle.write(contentsOf: Data(piece.readableBytesView))
        }
    }

    /// Hands the object's body to `each` as it arrives. A missing object is a ``Failure`` with status 404.
    public func read(bucket: String, key: String, each: (ByteBuffer) async throws -> Void) async throws {
        let (request, _) = signed("GET", bucket: bucket, key: key, headers: [], body: ByteBuffer())
        let response = try await http.execute(request, timeout: timeAmount)
        guard response.status == .ok else {
            let body = try await response.body.collect(upTo: 64 * 1024)
            throw Self.failure(status: Int(response.status.code), body: Array(buffer: body))
        }
        for try await piece in response.body {
            try await each(piece)
        }
    }

    /// Checks that the bucket is there and these credentials may use it.
    public func checkBucket(_ bucket: String) async throws {
        let response = try await send("HEAD", bucket: bucket, key: nil)
        guard response.status == 200 else {
            throw Failure(
                status: response.status, code: response.status == 404 ? "NoSuchBucket" : "HTTP\(response.status)",
                message: response.status == 404
                    ? "the bucket \(bucket) does not exist" : "these credentials may not use the bucket \(bucket)")
        }
    }

    /// Sends `file` in parts of ``partBytes`` (one part when it is smaller) and completes the
    /// upload; a failed upload is aborted, so no part is left behind.
    public func upload(file: URL, bucket: String, key: String) async throws {
        let handle = try FileHandle(forReadingFrom: file)
        defer { try? handle.close() }
        // One part in memory at a time, read straight into the buffer that is sent (and signed).
        func nextPart() throws -> ByteBuffer {
            guard let data = try handle.read(upToCount: partBytes) else { return ByteBuffer() }
            return ByteBuffer(bytes: data)
        }
        var piece = try nextPart()
        if piece.readableBytes < partBytes { return try await put(bucket: bucket, key: key, body: piece) }
        let started = try await send("POST", bucket: bucket, key: key, query: [("uploads", "")])
        guard started.status == 200, let uploadId = Self.element("UploadId", in: started.body) else { throw started.failure }
        do {
            var parts: [(number: Int, etag: String)] = []
            while piece.readableBytes > 0 {
                let number = parts.count + 1
                let response = try await send(
                    "PUT", bucket: bucket, key: key, query: [("partNumber", "\(number)"), ("uploadId", uploadId)],
                    body: piece)
                guard response.status == 200, let etag = response.headers.first(name: "etag") else { throw response.failure }
                parts.append((number, etag))
                piece = ByteBuffer()
                piece = try nextPart()
            }
            let list = parts.map { "<Part><PartNumber>\($0.number)</PartNumber><ETag>\(Self.escaped($0.etag))</ETag></Part>" }
            let body = Array("<CompleteMultipartUpload>\(list.joined())</CompleteMultipartUpload>".utf8)
            let completed = try await send(
                "POST", bucket: bucket, key: key, query: [("uploadId", uploadId)], body: ByteBuffer(bytes: body))
            // A completion can fail inside a 200 answer: its body then holds an Error.
            guard completed.status == 200, Self.element("Code", in: completed.body) == nil else { throw completed.failure }
        } catch {
            _ = try? await send("DELETE", bucket: bucket, key: key, query: [("uploadId", uploadId)])
            throw error
        }
    }

    /// Removes an object; one that is not there is fine.
    public func delete(bucket: String, key: String) async throws {
        let response = try await send("DELETE", bucket: bucket, key: key)
        guard response.status == 204 || response.status == 200 || response.status == 404 else { throw response.failure }
    }

    /// The keys under `prefix`, at most `limit`.
    public func list(bucket: String, prefix: String, limit: Int = 1000) async throws -> [String] {
        try await listObjects(bucket: bucket, prefix: prefix, limit: limit).map(\.key)
    }

    /// The objects under `prefix` that sort after `after`, at most `limit` (S3 sends 1,000 at most),
    /// with when each was last written.
    public func listObjects(
        bucket: String, prefix: String, after: String? = nil, limit: Int = 1000
    ) async throws -> [(key: String, lastModified: Date)] {
        var query = [("list-type", "2"), ("prefix", prefix), ("max-keys", "\(min(limit, 1000))")]
        if let after { query.append(("start-after", after)) }
        let response = try await send("GET", bucket: bucket, key: nil, query: query, collect: 16 << 20)
        guard response.status == 200 else { throw response.failure }
        let dates = ISO8601DateFormatter()
        dates.formatOptions = [.withInternetDateTime, .withFractionalSeconds]
        let plain = ISO8601DateFormatter()
        return Self.elements("Contents", in: response.body, unescaping: false).compactMap { contents in
            let bytes = Array(contents.utf8)
            guard let key = Self.element("Key", in: bytes) else { return nil }
            let written = Self.element("LastModified", in: bytes).flatMap { dates.date(from: $0) ?? plain.date(from: $0) }
            return (key, written ?? .distantPast)
        }
    }

    // MARK: Requests

    struct Answer {
        let status: Int
        let headers: HTTPHeaders
        let body: [UInt8]
        var code: String? { S3Client.element("Code", in: body) }
        var failure: Failure { S3Client.failure(status: status, body: body) }
    }

    var timeAmount: TimeAmount { .milliseconds(Int64(timeout.components.seconds) * 1000) }

    func send(
        _ method: String, bucket: String, key: String?, query: [(String, String)] = [], headers: [(String, String)] = [],
        body: ByteBuffer = ByteBuffer(), collect: Int = 1 << 20
    ) async throws -> Answer {
        // A 500 or 503 is the store asking to try again (S3's own words): three tries, 0.2 s and 0.4 s apart.
        var attempt = 0
        while true {
            attempt += 1
            let (request, _) = signed(method, bucket: bucket, key: key, query: query, headers: headers, body: body)
            let response = try await http.execute(request, timeout: timeAmount)
            let bytes = method == "HEAD" ? ByteBuffer() : try await response.body.collect(upTo: collect)
            let answer = Answer(status: Int(response.status.code), headers: response.headers, body: Array(buffer: bytes))
            guard answer.status == 500 || answer.status == 503, attempt < 3 else { return answer }
            try await Task.sleep(for: .milliseconds(100 << attempt))
        }
    }

    func signed(
        _ method: String, bucket: String, key: String?, query: [(String, String)] = [], headers: [(String, String)],
        body: ByteBuffer
    ) -> (HTTPClientRequest, String) {
        let path = "/" + ([bucket] + (key.map { [$0] } ?? [])).joined(separator: "/")
        let encodedPath = path.split(separator: "/", omittingEmptySubsequences: false)
            .map { SigV4Signer.uriEncode(String($0)) }.joined(separator: "/")
        let host = endpoint.host.map { host in endpoint.port.map { "\(host):\($0)" } ?? host } ?? "localhost"
        var hasher = SHA256()
        body.withUnsafeReadableBytes { hasher.update(bufferPointer: $0) }
        let payloadHash = SigV4Signer.hex(hasher.finalize())
        let all = signer.signS3(
            method: method, host: host, path: path, query: query, headers: headers, payloadHash: payloadHash, date: Date())
        let queryText = query.map {
            $0.1.isEmpty ? SigV4Signer.uriEncode($0.0) : "\(SigV4Signer.uriEncode($0.0))=\(SigV4Signer.uriEncode($0.1))"
        }
        .joined(separator: "&")
        let base = endpoint.absoluteString.hasSuffix("/") ? String(endpoint.absoluteString.dropLast()) : endpoint.absoluteString
        var request = HTTPClientRequest(url: base + encodedPath + (queryText.isEmpty ? "" : "?" + queryText))
        request.method = HTTPMethod(rawValue: method)
        for (name, value) in all { request.headers.add(name: name, value: value) }
        if body.readableBytes > 0 || method == "PUT" || method == "POST" {
            request.body = .bytes(body)
        }
        return (request, path)
    }

    static func failure(status: Int, body: [UInt8]) -> Failure {
        Failure(
            status: status, code: element("Code", in: body) ?? "HTTP\(status)",
            message: String((element("Message", in: body) ?? "").prefix(200)))
    }

    /// The text of the first `<name>` element of an XML answer.
    static func element(_ name: String, in body: [UInt8]) -> String? {
        elements(name, in: body).first
    }

    /// The text of every `<name>` element, unescaped unless it holds elements of its own.
    static func elements(_ name: String, in body: [UInt8], unescaping: Bool = true) -> [String] {
        let text = String(decoding: body, as: UTF8.self)
        var found: [String] = []
        var rest = text[...]
        while let open = rest.range(of: "<\(name)>"),
            let close = rest.range(of: "</\(name)>", range: open.upperBound..<rest.endIndex)
        {
            let text = String(rest[open.upperBound..<close.lowerBound])
            found.append(unescaping ? unescaped(text) : text)
            rest = rest[close.upperBound...]
        }
        return found
    }

    static func escaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&", with: "&amp;").replacingOccurrences(of: "<", with: "&lt;")
            .replacingOccurrences(of: ">", with: "&gt;").replacingOccurrences(of: "\"", with: "&quot;")
    }

    static func unescaped(_ text: String) -> String {
        text.replacingOccurrences(of: "&quot;", with: "\"").replacingOccurrences(of: "&lt;", with: "<")
            .replacingOccurrences(of: "&gt;", with: ">").replacingOccurrences(of: "&amp;", with: "&")
    }
}
