#!/usr/bin/env python3
"""Scripted IMAP session with Python's imaplib against Bastide (run by imap-clients.test.ts).

Covers LOGIN, LIST, SELECT, APPEND, FETCH (ENVELOPE, BODYSTRUCTURE, BODY.PEEK[] and partials),
UID SEARCH, STORE, COPY, MOVE, EXPUNGE and IDLE with a second connection. Exits non-zero on the
first failed check, printing what it got.
"""
import imaplib
import os
import re
import sys
import time

HOST = '127.0.0.1'
PORT = int(os.environ['IMAP_PORT'])
USER = os.environ['IMAP_USER']
PASSWORD = os.environ['IMAP_PASSWORD']


def check(cond, what, got=None):
    if not cond:
        print(f'FAILED: {what}: {got!r}', file=sys.stderr)
        sys.exit(1)
    print(f'ok - {what}')


def ok(res, what):
    typ, data = res
    check(typ == 'OK', what, data)
    return data


def untagged(conn):
    """The next untagged line, skipping '* 0 RECENT' (IMAP4rev1 noise)."""
    while True:
        line = conn.readline()
        if line.strip() != b'* 0 RECENT':
            return line


MESSAGE = (
    b'From: "Jeanne Dupont" <jeanne@example.org>\r\n'
    b'To: "Marc" <marc@example.org>\r\n'
    b'Subject: Budget 2025\r\n'
    b'Date: Mon, 3 Mar 2025 09:30:00 +0100\r\n'
    b'Message-ID: <budget-2025@example.org>\r\n'
    b'MIME-Version: 1.0\r\n'
    b'Content-Type: multipart/alternative; boundary="alt"\r\n'
    b'\r\n'
    b'--alt\r\n'
    b'Content-Type: text/plain; charset=utf-8\r\n'
    b'\r\n'
    b'Le budget est valid\xc3\xa9.\r\n'
    b'--alt\r\n'
    b'Content-Type: text/html; charset=utf-8\r\n'
    b'\r\n'
    b'<p>Le budget est valid\xc3\xa9.</p>\r\n'
    b'--alt--\r\n'
)

a = imaplib.IMAP4(HOST, PORT)
ok(a.login(USER, PASSWORD), 'LOGIN')
data = ok(a.list('""', '*'), 'LIST')
names = b'\n'.join(data)
check(b'\\Sent' in names and b'INBOX' in names, 'LIST shows INBOX and special-use folders', names)
ok(a.create('Py-Work'), 'CREATE Py-Work')

data = ok(a.append('Py-Work', '(\\Flagged)', imaplib.Time2Internaldate(time.time()), MESSAGE), 'APPEND')
check(re.search(rb'APPENDUID \d+ 1', data[0]) is not None, 'APPEND answers APPENDUID', data)
ok(a.append('Py-Work', None, None, b'Subject: second\r\nFrom: x@example.org\r\n\r\nsecond body\r\n'), 'APPEND second')

data = ok(a.select('Py-Work'), 'SELECT')
check(data[0] == b'2', 'SELECT counts 2 messages', data)

typ, data = a.fetch('1', '(ENVELOPE)')
check(typ == 'OK' and b'"Budget 2025"' in data[0] and b'("Jeanne Dupont" NIL "jeanne" "example.org")' in data[0], 'FETCH ENVELOPE', data)
typ, data = a.fetch('1', '(BODYSTRUCTURE)')
check(typ == 'OK' and b'"ALTERNATIVE"' in data[0] and b'("TEXT" "PLAIN" ("charset" "utf-8")' in data[0] and b'("TEXT" "HTML"' in data[0], 'FETCH BODYSTRUCTURE', data)
typ, data = a.fetch('1', '(BODY.PEEK[])')
check(typ == 'OK' and data[0][1] == MESSAGE, 'FETCH BODY.PEEK[] returns the exact bytes', data)
typ, data = a.fetch('1', '(BODY.PEEK[]<0.20>)')
check(typ == 'OK' and data[0][1] == MESSAGE[:20] and b'BODY[]<0>' in data[0][0], 'FETCH BODY.PEEK[]<0.20>', data)
typ, data = a.fetch('1', '(BODY.PEEK[1]<3.6>)')
check(typ == 'OK' and data[0][1] == b'budget', 'FETCH BODY.PEEK[1]<3.6> (partial of a part)', data)
typ, data = a.fetch('1', '(BODY.PEEK[HEADER.FIELDS (SUBJECT DATE)])')
check(typ == 'OK' and data[0][1] == b'Subject: Budget 2025\r\nDate: Mon, 3 Mar 2025 09:30:00 +0100\r\n\r\n', 'FETCH HEADER.FIELDS', data)
typ, data = a.fetch('1', '(FLAGS)')
check(b'\\Seen' not in data[0], 'PEEK leaves \\Seen unset', data)

typ, data = a.uid('SEARCH', None, 'SUBJECT', '"budget"')
check(typ == 'OK' and data[0].split() == [b'1'], 'UID SEARCH SUBJECT', data)
typ, data = a.uid('SEARCH', None, 'FLAGGED')
check(typ == 'OK' and data[0].split() == [b'1'], 'UID SEARCH FLAGGED', data)
typ, data = a.uid('SEARCH', None, 'BODY', 'valid')
check(typ == 'OK' and data[0].split() == [b'1'], 'UID SEARCH BODY (text index)', data)
typ, data = a.uid('SEARCH', None, 'NOT', 'FLAGGED')
check(typ == 'OK' and data[0].split() == [b'2'], 'UID SEARCH NOT FLAGGED', data)

typ, data = a.store('2', '+FLAGS', '(\\Seen $Important)')
check(typ == 'OK' and b'\\Seen' in data[0] and b'$Important' in data[0], 'STORE +FLAGS', data)
typ, data = a.store('2', '-FLAGS', '($Important)')
check(typ == 'OK' and b'$Important' not in data[0], 'STORE -FLAGS', data)

typ, data = a.uid('COPY', '1:2', 'Archive')
check(typ == 'OK', 'UID COPY (imaplib keeps no tagged response code; COPYUID is checked in the transcript tests)', (typ, data))

# IDLE with a second connection.
b = imaplib.IMAP4(HOST, PORT)
ok(b.login(USER, PASSWORD), 'second LOGIN')
ok(b.select('Py-Work'), 'second SELECT')
tag = b._new_tag()
b.send(tag + b' IDLE\r\n')
line = b.readline()
check(line.startswith(b'+'), 'IDLE continuation', line)

typ, data = a.uid('MOVE', '2', 'Trash')
check(typ == 'OK', 'UID MOVE', (typ, data))
line = untagged(b)
check(line.strip() == b'* 2 EXPUNGE', 'IDLE session sees the MOVE as EXPUNGE', line)

ok(a.append('Py-Work', None, None, b'Subject: third\r\n\r\nthird\r\n'), 'APPEND while the other idles')
line = untagged(b)
check(line.strip() == b'* 2 EXISTS', 'IDLE session sees EXISTS', line)

ok(a.store('1', '+FLAGS', '(\\Deleted)'), 'STORE \\Deleted')
line = untagged(b)
check(b'FETCH' in line and b'\\Deleted' in line, 'IDLE session sees FETCH FLAGS', line)
typ, data = a.expunge()
check(typ == 'OK' and data[-1] == b'1', 'EXPUNGE reports message 1 (imaplib also keeps the MOVE one)', data)
line = untagged(b)
check(line.strip() == b'* 1 EXPUNGE', 'IDLE session sees EXPUNGE', line)

b.send(b'DONE\r\n')
line = b.readline()
check(line.startswith(tag + b' OK'), 'IDLE ends with DONE', line)
data = ok(b.select('Py-Work'), 're-SELECT')
check(data[0] == b'1', 'one message left', data)
b.logout()

typ, data = a.status('Archive', '(MESSAGES)')
check(typ == 'OK' and b'MESSAGES 2' in data[0], 'STATUS Archive after COPY', data)
a.close()
a.logout()
print('imaplib: all checks passed')
