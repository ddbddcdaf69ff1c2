#ifndef MAILAUDIT_CLDNS_SHIM_H
#define MAILAUDIT_CLDNS_SHIM_H
// ldns/common.h defines `bool` as `signed char` unless stdbool.h comes first.
#include <stdbool.h>
#include <ldns/ldns.h>
#endif
