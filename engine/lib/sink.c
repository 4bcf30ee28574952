/*
 * sink.c - the collectors' standard sinks (include/ceptor/sink.h).
 */
#include <errno.h>
#include <stdio.h>

#include "ceptor/ring.h"
#include "ceptor/sink.h"

int cep_dump_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct cep_dump_sink *s = arg;
	char buf[CEP_EVENT_JSON_MAX];

	for (unsigned i = 0; i < n; i++) {
		int len = cep_event_to_json(&ev[i], buf, sizeof buf - 1);
		if (len < 0)
			return len; /* cannot happen: the buffer fits any event */
		buf[len++] = '\n';
		if (fwrite(buf, 1, (size_t)len, s->out) != (size_t)len)
			return -EIO;
		s->written++;
	}
	return (int)n;
}

int cep_count_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct cep_count_sink *s = arg;
	(void)ev;
	s->events += n;
	return (int)n;
}

int cep_ring_sink_fn(void *arg, const struct cep_event *ev, unsigned n)
{
	struct cep_ring_sink *s = arg;
	int got = cep_ring_enqueue_policy(s->ring, ev, n, s->overflow);
	if (got < 0)
		return got;
	s->accepted += (uint64_t)got;
	s->dropped += n - (unsigned)got;
	return got;
}
