"""Media: SDP, RTP, G.711, DTMF, prompts and speech; knows no SIP."""
