#include "client/core/upload_stream.h"

namespace epgfn {

grpc::Status StreamUpload(grpc::ClientWriter<v1::UploadChunk>& writer,
                          const v1::UploadChunk& header,
                          std::vector<std::string>& chunks) {
  bool open = writer.Write(header);
  v1::UploadChunk data_chunk;
  for (size_t i = 0; open && i < chunks.size(); ++i) {
    data_chunk.mutable_data()->swap(chunks[i]);
    open = writer.Write(data_chunk);
    data_chunk.mutable_data()->swap(chunks[i]);
  }
  if (open) writer.WritesDone();
  return writer.Finish();
}

}  // namespace epgfn
