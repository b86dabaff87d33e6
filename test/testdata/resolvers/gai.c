/* gai resolves its argument with getaddrinfo(AF_UNSPEC), as most programs
 * do, and prints the addresses or the error. Built with musl-gcc -static by
 * test/resolvers_test.go to watch musl's resolver. */
#include <arpa/inet.h>
#include <netdb.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

int main(int argc, char **argv)
{
	struct addrinfo hints, *res, *ai;
	char buf[INET6_ADDRSTRLEN];
	int err;

	if (argc != 2) {
		fprintf(stderr, "usage: gai NAME\n");
		return 2;
	}
	memset(&hints, 0, sizeof hints);
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	err = getaddrinfo(argv[1], NULL, &hints, &res);
	if (err) {
		printf("error %s\n", gai_strerror(err));
		return 1;
	}
	for (ai = res; ai; ai = ai->ai_next) {
		void *a = ai->ai_family == AF_INET
			? (void *)&((struct sockaddr_in *)ai->ai_addr)->sin_addr
			: (void *)&((struct sockaddr_in6 *)ai->ai_addr)->sin6_addr;
		printf("%s\n", inet_ntop(ai->ai_family, a, buf, sizeof buf));
	}
	freeaddrinfo(res);
	return 0;
}
