"""``kard-async users upload FILE``: enroll the users of a JSONL or CSV file, streaming it
to ``kard.users.bulk_create`` (the upload machinery of ``attributions upload``)."""

from __future__ import annotations

import argparse
from typing import Any

from . import _upload
from ._kinds import USERS
from ._settings import CONNECTION_HELP

EPILOG = f"""\
examples:
  kard-async users upload users.jsonl
  kard-async users upload users.csv --concurrency 8
  cat users.jsonl | kard-async users upload - --failed-out retry.jsonl

FILE holds one user per line, in the API's own field names:
  {{"id": "u1", "enrolledRewards": ["CARDLINKED"], "email": "u1@example.com",
   "phoneNumbers": [{{"number": "+14155552671", "type": "MOBILE"}}]}}
(also {{"type": "user", "id": ..., "attributes": {{...}}}}), or is a CSV file with the header
  id,enrolledRewards[,zipCode,email,hashedEmail,phoneNumber,birthYear,
  historicalTransactionsSent,phoneNumbers,postalCodes]
where a list is separated by ";" and a phone number or postal code may name its type after
":" (enrolledRewards "CARDLINKED"; phoneNumbers "+14155552671:MOBILE;+12125550188"; an
empty enrolledRewards enrolls the user in no program). Each line is read on its own.

Users are enrolled 100 per request. A user the server refuses (invalid, or already
enrolled: HTTP 409) is reported with its line number and the server's reason; the others of
its request are enrolled and never sent twice. Users that were not enrolled (invalid lines,
failed requests) are written to --failed-out in the same format: fix them and send that file
with the same command. Users whose request failed with an unknown outcome may have been
enrolled already (sent again, they would be refused as existing): --exclude-unknown keeps
them apart (users.unknown.jsonl beside users.failed.jsonl). On Ctrl-C, the users not
enrolled so far are written the same way; the exit status is 130.

exit status: 0 when every user was enrolled, 1 otherwise, 2 for usage errors, 130 when
interrupted.

{CONNECTION_HELP}"""

USERS_UPLOAD = _upload.UploadCommand(
    name="users upload",
    records=USERS,
    bulk=lambda kard: kard.users.bulk_create,
    item=lambda record: record.event,
    help="enroll the users of a JSONL or CSV file",
    description="Enroll users from a JSONL or CSV file, streaming it: users are sent 100 per "
    "request, several requests at a time.",
    epilog=EPILOG,
)


def add_parser(commands: Any) -> None:
    users = commands.add_parser(
        "users",
        help="users: upload (enroll many)",
        description="Users.",
        epilog="example:\n  kard-async users upload users.jsonl\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    user_commands = users.add_subparsers(dest="users_command", metavar="COMMAND")
    _upload.add_parser(user_commands, USERS_UPLOAD)
    users.set_defaults(usage=users)
