import CorralProtocol
import HTTPTypes
import Hummingbird
import NIOCore

extension APIError {
    /// The error as the HTTP answer: its status and `{"error": …}`.
    public func response() -> Response {
        Response(
            status: HTTPResponse.Status(code: status), headers: [.contentType: "application/json"],
            body: ResponseBody(byteBuffer: ByteBuffer(bytes: body)))
    }
}
