"""``kard-async transactions upload FILE``: send the card transactions of a JSONL or CSV
file, streaming it to ``kard.transactions.bulk_create`` (the upload machinery of
``attributions upload``). The group also holds ``upload-file`` (a daily file: ``_files``)."""

from __future__ import annotations

import argparse
from typing import Any

from . import _files, _upload
from ._kinds import TRANSACTIONS
from ._settings import CONNECTION_HELP

EPILOG = f"""\
examples:
  kard-async transactions upload transactions.jsonl
  kard-async transactions upload transactions.csv --concurrency 32
  zcat daily.jsonl.gz | kard-async transactions upload - --failed-out retry.jsonl

FILE holds one transaction per line in the API's own form (what Transaction.to_json()
writes):
  {{"type": "transaction", "id": "evt-1", "attributes": {{"userId": "u1", "transactionId":
   "t1", "status": "SETTLED", "amount": 1234, "currency": "USD", ...}}}}
(also flat, the attributes beside "id"; "type" defaults to "transaction"), or is a CSV file
whose header names the attributes, nested ones dotted, e.g.
  id,userId,transactionId,status,amount,currency,description,direction,cardBIN,
  cardLastFour,authorizationDate,settledDate,merchant.name,merchant.id
(amount and subtotal in integer cents; cardLastFours separated by ';'; an empty cell is
left out). Each line is read on its own: a broken line is reported with its number and
never hides the lines after it. Standard input's format is told from its first line (a
JSON object, or a CSV header with id), or given with --format.

Transactions go in requests of up to 500. Those not accepted (failed requests, and invalid
lines, including those the server refused in a 207 answer, whose line numbers and reasons
are printed) are written to --failed-out in the same format; send that file with the same
command to retry them. A transaction the server accepted is never sent again. Transactions
whose request failed with an unknown outcome may have been recorded already: sending them
again is safe (the server refuses an id it has, with 409, counted as invalid), and
--exclude-unknown keeps them apart (transactions.unknown.jsonl beside
transactions.failed.jsonl). On Ctrl-C, the transactions not accepted so far are written the
same way; the exit status is 130.

exit status: 0 when every transaction was accepted, 1 otherwise, 2 for usage errors, 130
when interrupted.

{CONNECTION_HELP}"""

TRANSACTIONS_UPLOAD = _upload.UploadCommand(
    name="transactions upload",
    records=TRANSACTIONS,
    bulk=lambda kard: kard.transactions.bulk_create,
    item=lambda record: record.event,
    help="upload a JSONL or CSV file of card transactions",
    description="Upload card transactions from a JSONL or CSV file, streaming it: they are "
    "sent in requests of up to 500, several requests at a time.",
    epilog=EPILOG,
)


def add_parser(commands: Any) -> None:
    transactions = commands.add_parser(
        "transactions",
        help="card transactions: upload, upload-file",
        description="Card transactions: through the API (upload) or as a daily file (upload-file).",
        epilog="examples:\n  kard-async transactions upload transactions.jsonl\n"
        "  kard-async transactions upload-file daily.jsonl\n",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    transaction_commands = transactions.add_subparsers(
        dest="transactions_command", metavar="COMMAND"
    )
    _upload.add_parser(transaction_commands, TRANSACTIONS_UPLOAD)
    _files.add_transaction_parsers(transaction_commands)
    transactions.set_defaults(usage=transactions)
