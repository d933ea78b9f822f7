#include "synod/transport/security.h"

#include <openssl/bio.h>
#include <openssl/err.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <memory>

namespace synod::transport {
namespace {

struct BioFree {
  void operator()(BIO* bio) const { BIO_free(bio); }
};
struct X509Free {
  void operator()(X509* cert) const { X509_free(cert); }
};
struct KeyFree {
  void operator()(EVP_PKEY* key) const { EVP_PKEY_free(key); }
};
using Bio = std::unique_ptr<BIO, BioFree>;

bool fail(std::string* error, std::string message) {
  // What the PEM parser complained about is not worth more than our own message.
  ERR_clear_error();
  if (error) *error = "transport security: " + std::move(message);
  return false;
}

Bio open_pem(const std::string& path) { return Bio(BIO_new_file(path.c_str(), "r")); }

// The first certificate in `path`; nullptr if it is unreadable or holds none.
std::unique_ptr<X509, X509Free> read_certificate(const std::string& path) {
  Bio bio = open_pem(path);
  if (!bio) return nullptr;
  return std::unique_ptr<X509, X509Free>(PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr));
}

bool check_tls(const TransportSecurity& s, std::string* error) {
  const char* mode = to_string(s.mode);
  for (const auto& [name, path] : {std::pair<const char*, const std::string&>{"ca_file", s.ca_file},
                                   {"cert_file", s.cert_file},
                                   {"key_file", s.key_file}}) {
    if (path.empty()) return fail(error, std::string(mode) + " needs " + name);
    if (!open_pem(path)) return fail(error, std::string(name) + " '" + path + "' cannot be read");
  }
  if (!read_certificate(s.ca_file)) {
    return fail(error, "ca_file '" + s.ca_file + "' holds no PEM certificate");
  }
  const auto cert = read_certificate(s.cert_file);
  if (!cert) return fail(error, "cert_file '" + s.cert_file + "' holds no PEM certificate");
  Bio key_bio = open_pem(s.key_file);
  std::unique_ptr<EVP_PKEY, KeyFree> key(
      PEM_read_bio_PrivateKey(key_bio.get(), nullptr, nullptr, nullptr));
  if (!key) {
    return fail(error, "key_file '" + s.key_file + "' holds no unencrypted PEM private key");
  }
  if (X509_check_private_key(cert.get(), key.get()) != 1) {
    return fail(error, "key_file '" + s.key_file + "' is not the key of cert_file '" +
                           s.cert_file + "'");
  }
  return true;
}

}  // namespace

const char* to_string(SecurityMode mode) {
  switch (mode) {
    case SecurityMode::Plain: return "plain";
    case SecurityMode::Tls: return "tls";
    case SecurityMode::MutualTls: return "mutual-tls";
    case SecurityMode::SharedSecret: return "shared-secret";
  }
  return "unknown";
}

bool validate(const TransportSecurity& security, std::string* error) {
  switch (security.mode) {
    case SecurityMode::Plain:
      return true;
    case SecurityMode::Tls:
    case SecurityMode::MutualTls:
      return check_tls(security, error);
    case SecurityMode::SharedSecret:
      if (security.shared_secret.size() < kMinSharedSecretBytes) {
        return fail(error, "shared_secret has " + std::to_string(security.shared_secret.size()) +
                               " bytes, needs at least " + std::to_string(kMinSharedSecretBytes));
      }
      if (security.max_clock_skew <= std::chrono::milliseconds::zero() ||
          security.max_clock_skew > std::chrono::hours(1)) {
        return fail(error, "max_clock_skew must be in (0, 1 h]");
      }
      if (security.replay_cache_capacity == 0) {
        return fail(error, "replay_cache_capacity is 0");
      }
      return true;
  }
  return fail(error, "unknown security mode");
}

}  // namespace synod::transport
