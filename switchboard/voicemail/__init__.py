"""Voicemail: greetings and messages as files in a spool, their metadata in the store, and
messages taken by the receptionist, sent by e-mail (issue 5; R11, R12, R18, R20).

``wav`` (pure) checks and converts audio; ``spool`` writes files atomically and keeps the
store in step; ``notify`` stores a taken message and mails it. The media edge (a later
issue) records into ``Voicemail.save_message`` and plays ``Voicemail.greeting_path``.
"""
