/*
 * The machine's network and clock, watched for the sessions that stay
 * connected: a change of the machine's addresses (an rtnetlink socket:
 * another network, a VPN, a cable) or a jump of the wall clock (a suspend
 * and resume, or the clock set) is told to every registered session, which
 * checks or renews its connection at once instead of waiting for a
 * timeout or its backoff.
 *
 * A jump is seen by comparing clocks every NETWATCH_TICK_MS: CLOCK_BOOTTIME
 * runs on through a suspend while CLOCK_MONOTONIC stops, and CLOCK_REALTIME
 * moves by itself when the clock is set; either gap growing by more than
 * NETWATCH_JUMP_MS is a jump. One thread serves every session; it runs
 * while one is registered.
 */
#include <sys/socket.h>

#include <linux/netlink.h>
#include <linux/rtnetlink.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "net.h"
#include "log.h"
#include "xmalloc.h"

#define NETWATCH_TICK_MS	2000
#define NETWATCH_JUMP_MS	10000

struct netwatch_client {
	netwatch_cb	 cb;
	void		*arg;
};

/* nw_life orders registrations (start and stop of the thread); nw_lock
 * guards the list, which the thread reads. */
static pthread_mutex_t		 nw_life = PTHREAD_MUTEX_INITIALIZER;
static pthread_mutex_t		 nw_lock = PTHREAD_MUTEX_INITIALIZER;
static struct netwatch_client	*nw_clients;
static size_t			 nw_n;
static pthread_t		 nw_thread;
static bool			 nw_running;
static int			 nw_stop[2] = { -1, -1 };

static int64_t
clock_ms(clockid_t id)
{
	struct timespec	ts;

	if (clock_gettime(id, &ts) == -1)
		return 0;
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
tell(enum netwatch_event ev, int64_t ms)
{
	size_t	i;

	pthread_mutex_lock(&nw_lock);
	for (i = 0; i < nw_n; i++)
		nw_clients[i].cb(nw_clients[i].arg, ev, ms);
	pthread_mutex_unlock(&nw_lock);
}

static int
open_netlink(void)
{
	struct sockaddr_nl	sa;
	int			fd;

	fd = socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC | SOCK_NONBLOCK,
	    NETLINK_ROUTE);
	if (fd == -1) {
		log_warn("netwatch: netlink socket");
		return -1;
	}
	memset(&sa, 0, sizeof sa);
	sa.nl_family = AF_NETLINK;
	sa.nl_groups = RTMGRP_IPV4_IFADDR | RTMGRP_IPV6_IFADDR;
	if (bind(fd, (struct sockaddr *)&sa, sizeof sa) == -1) {
		log_warn("netwatch: netlink bind");
		close(fd);
		return -1;
	}
	return fd;
}

/* True when what was read holds an address added or removed. */
static bool
read_netlink(int fd)
{
	char		 buf[8192];
	struct nlmsghdr	*h;
	ssize_t		 n;
	bool		 changed = false;

	while ((n = recv(fd, buf, sizeof buf, 0)) > 0) {
		for (h = (struct nlmsghdr *)buf; NLMSG_OK(h, (size_t)n);
		    h = NLMSG_NEXT(h, n))
			if (h->nlmsg_type == RTM_NEWADDR ||
			    h->nlmsg_type == RTM_DELADDR)
				changed = true;
	}
	/* ENOBUFS: messages were lost; something changed anyway. */
	if (n == -1 && errno == ENOBUFS)
		changed = true;
	return changed;
}

static void *
netwatch_main(void *arg)
{
	struct pollfd	pfd[2];
	int64_t		boot_gap, real_gap, b, r, mono, d;
	int		nl = open_netlink(), rv;

	(void)arg;
	mono = clock_ms(CLOCK_MONOTONIC);
	boot_gap = clock_ms(CLOCK_BOOTTIME) - mono;
	real_gap = clock_ms(CLOCK_REALTIME) - mono;
	for (;;) {
		pfd[0].fd = nw_stop[0];
		pfd[0].events = POLLIN;
		pfd[1].fd = nl;
		pfd[1].events = POLLIN;
		rv = poll(pfd, nl != -1 ? 2 : 1, NETWATCH_TICK_MS);
		if (rv == -1 && errno != EINTR) {
			log_warn("netwatch: poll");
			break;
		}
		if (rv > 0 && (pfd[0].revents & POLLIN))
			break;
		if (rv > 0 && nl != -1 && (pfd[1].revents & POLLIN) &&
		    read_netlink(nl)) {
			log_info("netwatch: the machine's addresses changed");
			tell(NETWATCH_ADDRESS, 0);
		}
		mono = clock_ms(CLOCK_MONOTONIC);
		b = clock_ms(CLOCK_BOOTTIME) - mono;
		r = clock_ms(CLOCK_REALTIME) - mono;
		d = b - boot_gap;
		if (llabs(r - real_gap) > llabs(d))
			d = r - real_gap;
		boot_gap = b;
		real_gap = r;
		if (llabs(d) > NETWATCH_JUMP_MS) {
			log_info("netwatch: the clock jumped by %lld s",
			    (long long)(d / 1000));
			tell(NETWATCH_CLOCK, d);
		}
	}
	if (nl != -1)
		close(nl);
	return NULL;
}

void
netwatch_register(netwatch_cb cb, void *arg)
{
	pthread_mutex_lock(&nw_life);
	pthread_mutex_lock(&nw_lock);
	nw_clients = xreallocarray(nw_clients, nw_n + 1, sizeof *nw_clients);
	nw_clients[nw_n].cb = cb;
	nw_clients[nw_n].arg = arg;
	nw_n++;
	if (!nw_running) {
		if (pipe2(nw_stop, O_CLOEXEC) == -1)
			log_warn("netwatch: pipe");
		else if (pthread_create(&nw_thread, NULL, netwatch_main,
		    NULL) != 0) {
			log_warnx("netwatch: cannot start its thread");
			close(nw_stop[0]);
			close(nw_stop[1]);
		} else
			nw_running = true;
	}
	pthread_mutex_unlock(&nw_lock);
	pthread_mutex_unlock(&nw_life);
}

void
netwatch_unregister(netwatch_cb cb, void *arg)
{
	size_t	i;
	bool	stop = false;

	pthread_mutex_lock(&nw_life);
	pthread_mutex_lock(&nw_lock);
	for (i = 0; i < nw_n; i++)
		if (nw_clients[i].cb == cb && nw_clients[i].arg == arg) {
			memmove(&nw_clients[i], &nw_clients[i + 1],
			    (nw_n - i - 1) * sizeof *nw_clients);
			nw_n--;
			break;
		}
	if (nw_n == 0 && nw_running) {
		nw_running = false;
		stop = true;
		free(nw_clients);
		nw_clients = NULL;
	}
	pthread_mutex_unlock(&nw_lock);
	if (stop) {
		/* Outside the lock: the thread may be telling someone. */
		if (write(nw_stop[1], "x", 1) == -1)
			log_warn("netwatch: write");
		pthread_join(nw_thread, NULL);
		close(nw_stop[0]);
		close(nw_stop[1]);
		nw_stop[0] = nw_stop[1] = -1;
	}
	pthread_mutex_unlock(&nw_life);
}
