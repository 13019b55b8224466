import Foundation
import JobstreamObjectStore
import Testing

/// The signer against AWS's published examples: the S3 developer guide's "Examples: Signature
/// Calculations" (GET Object with a range, PUT Object) and the Signature Version 4 test suite
/// (`get-vanilla`, `get-vanilla-query-order-key-case`), each with its published signature.
@Suite("AWS Signature Version 4")
struct SigV4SignerTests {
    static let s3Credentials = SigV4Signer.Credentials(
        accessKey: "AKIAIOSFODNN7EXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG/bPxRfiCYEXAMPLEKEY")
    static let suiteCredentials = SigV4Signer.Credentials(
        accessKey: "AKIDEXAMPLE", secretKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY")
    /// 2013-05-24T00:00:00Z and 2015-08-30T12:36:00Z.
    static let s3Date = Date(timeIntervalSince1970: 1_369_353_600)
    static let suiteDate = Date(timeIntervalSince1970: 1_440_938_160)

    @Test("S3 GET Object, bytes 0-9 of test.txt: the guide's Authorization header")
    func getObject() {
        let signer = SigV4Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let headers = signer.signS3(
            method: "GET", host: "examplebucket.s3.amazonaws.com", path: "/test.txt", headers: [("Range", "bytes=0-9")],
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.s3Date)
        #expect(
            headers.last?.1
                == "AWS4-HMAC-SHA256 Credential=AKIAIOSFODNN7EXAMPLE/20130524/us-east-1/s3/aws4_request,SignedHeaders=host;range;x-amz-content-sha256;x-amz-date,Signature=f0e8bdb87c964420e857bd35b5d6ed310bd44f0170aba48dd91039c6036bdb41"
        )
        #expect(headers.contains { $0 == ("x-amz-date", "20130524T000000Z") })
    }

    @Test("S3 PUT Object test$file.text with its body's hash, a Date and a storage class: the guide's signature")
    func putObject() {
        let signer = SigV4Signer(credentials: Self.s3Credentials, region: "us-east-1")
        let headers = signer.signS3(
            method: "PUT", host: "examplebucket.s3.amazonaws.com", path: "/test$file.text",
            headers: [("Date", "Fri, 24 May 2013 00:00:00 GMT"), ("x-amz-storage-class", "REDUCED_REDUNDANCY")],
            payloadHash: "44ce7dd67c959e0d3524ffac1771dfbba87d2b6b4b4e99e42034a8b803f8b072", date: Self.s3Date)
        #expect(
            headers.last?.1.hasSuffix(
                "SignedHeaders=date;host;x-amz-content-sha256;x-amz-date;x-amz-storage-class,Signature=98ad721746da40c64f1a55b78f14c238d841ea1380cd77a1b5971af0ece108bd"
            ) == true)
    }

    @Test("the test suite's get-vanilla and get-vanilla-query-order-key-case (query parameters sorted)")
    func testSuite() {
        let signer = SigV4Signer(credentials: Self.suiteCredentials, region: "us-east-1", service: "service")
        let headers = [("Host", "example.amazonaws.com"), ("X-Amz-Date", "20150830T123600Z")]
        let vanilla = signer.authorization(
            method: "GET", path: "/", query: [], headers: headers, payloadHash: SigV4Signer.emptyPayloadHash,
            date: Self.suiteDate)
        #expect(
            vanilla
                == "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/service/aws4_request,SignedHeaders=host;x-amz-date,Signature=5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
        )
        let ordered = signer.authorization(
            method: "GET", path: "/", query: [("Param2", "value2"), ("Param1", "value1")], headers: headers,
            payloadHash: SigV4Signer.emptyPayloadHash, date: Self.suiteDate)
        #expect(ordered.hasSuffix("Signature=b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"))
    }

    @Test("paths and query values are encoded as RFC 3986 says; the unreserved characters are kept")
    func encoding() {
        #expect(SigV4Signer.uriEncode("a b/ü~-_.") == "a%20b%2F%C3%BC~-_.")
        #expect(SigV4Signer.amzDate(Self.s3Date) == "20130524T000000Z")
    }
}
