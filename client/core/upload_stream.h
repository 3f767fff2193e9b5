#ifndef EPGFN_CLIENT_CORE_UPLOAD_STREAM_H_
#define EPGFN_CLIENT_CORE_UPLOAD_STREAM_H_

#include <grpcpp/support/status.h>
#include <grpcpp/support/sync_stream.h>

#include <string>
#include <vector>

#include "proto/federation.grpc.pb.h"

namespace epgfn {

// Sends one upload over `writer`: `header`, then each chunk as an
// UploadChunk's data, then WritesDone, and returns Finish()'s status. Each
// chunk is lent to the message (swapped in, and swapped back once Write has
// serialized it) instead of copied, so `chunks` is unchanged afterwards and
// serves a retry. A failed Write means the stream is broken; the status
// says why.
grpc::Status StreamUpload(grpc::ClientWriter<v1::UploadChunk>& writer,
                          const v1::UploadChunk& header,
                          std::vector<std::string>& chunks);

}  // namespace epgfn

#endif  // EPGFN_CLIENT_CORE_UPLOAD_STREAM_H_
