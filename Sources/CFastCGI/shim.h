#ifndef HUBCHAT_CFASTCGI_SHIM_H
#define HUBCHAT_CFASTCGI_SHIM_H
#include <fcgiapp.h>
#include <sys/prctl.h>

/* prctl is variadic, which Swift cannot call: the one use responders have for it. The kernel sends `signal` to
   this process when the thread that started it (the pool's supervisor) dies. */
static inline int hubchat_signal_on_parent_death(int signal) {
    return prctl(PR_SET_PDEATHSIG, (unsigned long)signal, 0UL, 0UL, 0UL);
}
#endif
