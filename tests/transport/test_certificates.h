// Certificates for the TLS tests, made at test time with the openssl command line tool in
// a temporary directory that is removed when the test program exits.
//
// One CA signs a node certificate (subjectAltName IP:127.0.0.1 and DNS:localhost, usable
// as server and client) that every endpoint of a test shares. A second, unrelated CA signs
// a certificate with the same names, for peers that must not be trusted.
#pragma once

#include <string>

#include "synod/transport/security.h"

namespace synod::transport::testing {

struct TestCertificates {
  std::string ca_file;
  std::string cert_file;
  std::string key_file;
  std::string other_ca_file;
  std::string other_cert_file;
  std::string other_key_file;

  // Made once per process; nullptr (and the reason in *error) if openssl failed.
  static const TestCertificates* get(std::string* error);

  // `mode` (Tls or MutualTls) with the cluster's CA and node certificate.
  TransportSecurity security(SecurityMode mode) const;
  // `mode` with the unrelated CA and its certificate.
  TransportSecurity other_security(SecurityMode mode) const;
};

}  // namespace synod::transport::testing
