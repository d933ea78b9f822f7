#include "test_certificates.h"

#include <sys/wait.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <optional>
#include <sstream>
#include <system_error>

namespace synod::transport::testing {
namespace {

namespace fs = std::filesystem;

// Removes the directory when the program exits.
class TempDir {
 public:
  TempDir() {
    std::string pattern = (fs::temp_directory_path() / "synod-certs-XXXXXX").string();
    if (::mkdtemp(pattern.data()) != nullptr) path_ = pattern;
  }
  ~TempDir() {
    std::error_code ignored;
    if (!path_.empty()) fs::remove_all(path_, ignored);
  }
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  const fs::path& path() const { return path_; }

 private:
  fs::path path_;
};

std::string read_all(const fs::path& path) {
  std::ifstream in(path);
  std::ostringstream out;
  out << in.rdbuf();
  return out.str();
}

// Runs `args` with openssl in `dir`; false and its output in *error when it fails.
bool openssl(const fs::path& dir, const std::string& args, std::string* error) {
  const fs::path log = dir / "openssl.log";
  const std::string command =
      "cd '" + dir.string() + "' && openssl " + args + " > '" + log.string() + "' 2>&1";
  const int status = std::system(command.c_str());
  if (status != -1 && WIFEXITED(status) && WEXITSTATUS(status) == 0) return true;
  *error = "openssl " + args + " failed (status " + std::to_string(status) + "): " + read_all(log);
  return false;
}

bool write_file(const fs::path& path, const std::string& text, std::string* error) {
  std::ofstream out(path);
  out << text;
  out.close();
  if (out) return true;
  *error = "cannot write " + path.string();
  return false;
}

constexpr const char* kNewKey = "-newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes";

// A self-signed CA `name`.pem / `name`.key, and a node certificate `node`.pem / .key it signs.
bool make_ca_and_node(const fs::path& dir, const std::string& name, const std::string& node,
                      std::string* error) {
  return openssl(dir,
                 std::string("req -x509 ") + kNewKey + " -keyout " + name + ".key -out " + name +
                     ".pem -days 2 -subj /CN=" + name,
                 error) &&
         openssl(dir,
                 std::string("req -new ") + kNewKey + " -keyout " + node + ".key -out " + node +
                     ".csr -subj /CN=" + node,
                 error) &&
         openssl(dir,
                 "x509 -req -in " + node + ".csr -CA " + name + ".pem -CAkey " + name +
                     ".key -set_serial 2 -days 2 -extfile node.cnf -out " + node + ".pem",
                 error);
}

TransportSecurity tls(SecurityMode mode, std::string ca, std::string cert, std::string key) {
  TransportSecurity security;
  security.mode = mode;
  security.ca_file = std::move(ca);
  security.cert_file = std::move(cert);
  security.key_file = std::move(key);
  return security;
}

}  // namespace

const TestCertificates* TestCertificates::get(std::string* error) {
  static std::mutex mu;
  static TempDir dir;
  static std::optional<TestCertificates> made;
  static std::string failure;
  std::lock_guard lock(mu);
  if (!made && failure.empty()) {
    const fs::path& d = dir.path();
    if (d.empty()) {
      failure = "cannot make a temporary directory";
    } else if (write_file(d / "node.cnf",
                          "basicConstraints=critical,CA:FALSE\n"
                          "keyUsage=critical,digitalSignature,keyEncipherment\n"
                          "extendedKeyUsage=serverAuth,clientAuth\n"
                          "subjectAltName=IP:127.0.0.1,DNS:localhost\n",
                          &failure) &&
               make_ca_and_node(d, "ca", "node", &failure) &&
               make_ca_and_node(d, "other-ca", "other-node", &failure)) {
      made = TestCertificates{(d / "ca.pem").string(),       (d / "node.pem").string(),
                              (d / "node.key").string(),     (d / "other-ca.pem").string(),
                              (d / "other-node.pem").string(), (d / "other-node.key").string()};
    }
  }
  if (!made && error) *error = failure;
  return made ? &*made : nullptr;
}

TransportSecurity TestCertificates::security(SecurityMode mode) const {
  return tls(mode, ca_file, cert_file, key_file);
}

TransportSecurity TestCertificates::other_security(SecurityMode mode) const {
  return tls(mode, other_ca_file, other_cert_file, other_key_file);
}

}  // namespace synod::transport::testing
