#include "common/config_hash.h"

#include "common/files.h"

namespace rnnprune {

std::string CanonicalConfigText(const nlohmann::json& config) { return config.dump(); }

std::string ConfigHash(const nlohmann::json& config) {
  return Sha256Hex(CanonicalConfigText(config));
}

}  // namespace rnnprune
