"""Voicemail: greetings, name clips and messages as files in a spool, their metadata in the
store, and messages taken by the receptionist, sent by e-mail (issue 5; R10-R12, R18, R20).

``wav`` (pure) checks and converts audio; ``recordings`` makes greetings and name clips
ready to store; ``spool`` writes files atomically and keeps the store in step; ``notify``
stores a taken message and mails it. The media edge records into
``Voicemail.save_message`` and plays ``Voicemail.recording_audio``.
"""
