pub mod secret_service;
