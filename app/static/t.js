/* adpulse snippet: placeholder until issue 3's snippet lands */
