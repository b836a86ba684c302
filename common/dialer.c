/* dialer.c - placeholder, being written. */
