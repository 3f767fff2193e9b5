#ifndef EPGFN_SERVER_CORE_RECORD_IO_H_
#define EPGFN_SERVER_CORE_RECORD_IO_H_

#include <google/protobuf/message.h>

#include <string>

#include "absl/status/status.h"

namespace epgfn {

// Metadata files are textproto so that an operator can read the state
// directory; they are written atomically like the model files beside them.
absl::Status WriteTextProtoFile(const std::string& path,
                                const google::protobuf::Message& message);

// NotFound when missing; DataLoss when the text does not parse.
absl::Status ReadTextProtoFile(const std::string& path,
                               google::protobuf::Message* message);

}  // namespace epgfn

#endif  // EPGFN_SERVER_CORE_RECORD_IO_H_
