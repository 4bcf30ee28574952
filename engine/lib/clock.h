/*
 * clock.h - the clocks ceptor reads, in the units it counts in.
 *
 *   cep_clock_wall_ns()    CLOCK_REALTIME, ns since the Unix epoch (UTC):
 *                          for times that are shown or stored (event time,
 *                          heartbeats, "loaded at")
 *   cep_clock_mono_ns()    CLOCK_MONOTONIC, ns: for durations and deadlines
 *   cep_clock_mono_ms()    the same in ms
 *   cep_clock_coarse_ms()  CLOCK_MONOTONIC_COARSE, ms: for "about once a
 *                          second" checks on a hot path; a few ms behind,
 *                          but a read costs no more than a memory load
 *
 * Durations are never measured on the wall clock: it jumps when the time
 * is set.  A clock that cannot be read (it cannot fail on Linux for these
 * ids) reads as 0.
 *
 * Thread safety: any thread; async-signal-safe (clock_gettime() is).
 */
#ifndef CEPTOR_LIB_CLOCK_H
#define CEPTOR_LIB_CLOCK_H

#include <stdint.h>
#include <time.h>

static inline uint64_t cep__clock_ns(clockid_t id)
{
	struct timespec ts;

	if (clock_gettime(id, &ts) != 0)
		return 0;
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static inline uint64_t cep_clock_wall_ns(void)
{
	return cep__clock_ns(CLOCK_REALTIME);
}

static inline uint64_t cep_clock_mono_ns(void)
{
	return cep__clock_ns(CLOCK_MONOTONIC);
}

static inline uint64_t cep_clock_mono_ms(void)
{
	return cep__clock_ns(CLOCK_MONOTONIC) / 1000000u;
}

static inline uint64_t cep_clock_coarse_ms(void)
{
	return cep__clock_ns(CLOCK_MONOTONIC_COARSE) / 1000000u;
}

#endif /* CEPTOR_LIB_CLOCK_H */
