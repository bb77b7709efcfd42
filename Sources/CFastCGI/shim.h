#ifndef HUBCHAT_CFASTCGI_SHIM_H
#define HUBCHAT_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#endif
