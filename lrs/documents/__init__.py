"""xAPI document resources: State, Activity Profile, Agent Profile (Communication 2.2-2.7)."""
