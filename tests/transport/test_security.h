// Security settings the endpoints of one transport test share, for every mode.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>
#include <utility>

#include "synod/transport/security.h"
#include "test_certificates.h"

namespace synod::transport::testing {

inline constexpr std::string_view kTestSecret = "synod test secret, 32 bytes long";

// The test certificates for the TLS modes, kTestSecret for SharedSecret. Fails the
// calling test if the certificates cannot be made.
inline TransportSecurity test_security(SecurityMode mode) {
  TransportSecurity security;
  if (mode == SecurityMode::Tls || mode == SecurityMode::MutualTls) {
    std::string error;
    const TestCertificates* certificates = TestCertificates::get(&error);
    if (!certificates) {
      ADD_FAILURE() << "cannot make test certificates: " << error;
      return security;
    }
    return certificates->security(mode);
  }
  security.mode = mode;
  if (mode == SecurityMode::SharedSecret) security.shared_secret = kTestSecret;
  return security;
}

// SharedSecret mode with `key` as the secret.
inline TransportSecurity secret(std::string key) {
  TransportSecurity security = test_security(SecurityMode::SharedSecret);
  security.shared_secret = std::move(key);
  return security;
}

// The test certificates; fails the calling test if they cannot be made.
inline const TestCertificates& certificates() {
  std::string error;
  const TestCertificates* made = TestCertificates::get(&error);
  if (!made) {
    ADD_FAILURE() << "cannot make test certificates: " << error;
    static const TestCertificates none;
    return none;
  }
  return *made;
}

}  // namespace synod::transport::testing
