/* `cloudfs status MOUNTPOINT [--once]`: the mount's transfers as a table. */
#ifndef CFS_STATUS_CLI_H
#define CFS_STATUS_CLI_H

/* argv[0] is "status". Returns the exit status. */
int cfs_status_main(int argc, char **argv);

#endif
