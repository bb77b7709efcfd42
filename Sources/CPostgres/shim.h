#ifndef HUBCHAT_CPOSTGRES_SHIM_H
#define HUBCHAT_CPOSTGRES_SHIM_H
#include <postgresql/libpq-fe.h>
#endif
