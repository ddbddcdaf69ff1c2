// The SMTP client arrives with the MX probe work.
