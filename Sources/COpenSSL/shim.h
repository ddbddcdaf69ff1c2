#ifndef MAILAUDIT_COPENSSL_SHIM_H
#define MAILAUDIT_COPENSSL_SHIM_H
#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <openssl/crypto.h>
#endif
