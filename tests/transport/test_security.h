// Security settings the endpoints of one transport test share, for every mode.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <string_view>

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

}  // namespace synod::transport::testing
