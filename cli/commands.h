/* The command groups of `chancery`, one file each in cli/. */
#ifndef CHANCERY_CLI_COMMANDS_H
#define CHANCERY_CLI_COMMANDS_H

#include "cli.h"

int cmd_init(struct cli *cli, int argc, char **argv);
int cmd_config(struct cli *cli, int argc, char **argv);
int cmd_body(struct cli *cli, int argc, char **argv);
int cmd_contact(struct cli *cli, int argc, char **argv);
int cmd_list(struct cli *cli, int argc, char **argv);
int cmd_template(struct cli *cli, int argc, char **argv);
int cmd_audit(struct cli *cli, int argc, char **argv);
int cmd_registry(struct cli *cli, int argc, char **argv);
int cmd_campaign(struct cli *cli, int argc, char **argv);
/* campaign proof and campaign test (cmd_campaign_proof.c) */
int cmd_campaign_proof(struct cli *cli, int argc, char **argv);
int cmd_campaign_test(struct cli *cli, int argc, char **argv);
int cmd_series(struct cli *cli, int argc, char **argv);
int cmd_bounce(struct cli *cli, int argc, char **argv);
/* inbox and its older name bounce (cmd_bounce.c) */
int cmd_inbox(struct cli *cli, int argc, char **argv);
int cmd_find(struct cli *cli, int argc, char **argv);
/* relay test (cmd_relay.c) */
int cmd_relay(struct cli *cli, int argc, char **argv);
/* cmd_backup.c, cmd_status.c */
int cmd_backup(struct cli *cli, int argc, char **argv);
int cmd_status(struct cli *cli, int argc, char **argv);
/* the web console's accounts (cmd_user.c) */
int cmd_user(struct cli *cli, int argc, char **argv);

#endif
